import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { sendPage } from '../../http/pages.js';
import { respondOnce } from '../../http/idempotent.js';
import { IdempotencyKeyHeader, IfMatchHeader, problems, WRITE_ERRORS } from '../../http/responses.js';
import type { IdempotencyService } from '../idempotency/idempotency.service.js';
import { IdParams } from '../../lib/ids.js';
import { PageQuery } from '../../lib/pagination.js';
import { CreateStaffBody, StaffMember, UpdateStaffBody } from './staff.schemas.js';
import type { StaffService } from './staff.service.js';

const tags = ['staff'];
const config = { access: 'staff' as const };
const AUTH_ERRORS = [401, 403] as const;

export const staffRoutes: FastifyPluginAsyncTypebox<{ staff: StaffService; idempotency: IdempotencyService }> = async (
  app,
  { staff, idempotency },
) => {
  app.get(
    '/staff',
    {
      config,
      schema: {
        tags,
        summary: 'List staff accounts',
        querystring: Type.Object(
          { limit: PageQuery.limit, cursor: Type.Optional(PageQuery.cursor) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(StaffMember), ...problems(400, ...AUTH_ERRORS) },
      },
    },
    async (request, reply) => sendPage(request, reply, await staff.list(request.query.limit, request.query.cursor)),
  );

  app.post(
    '/staff',
    {
      config,
      schema: {
        tags,
        summary: 'Create a staff (admin) account',
        headers: IdempotencyKeyHeader,
        body: CreateStaffBody,
        response: { 201: StaffMember, ...problems(...WRITE_ERRORS, ...AUTH_ERRORS, 409, 422) },
      },
    },
    async (request, reply) => {
      await respondOnce(request, reply, idempotency, async (executor) => {
        const member = await staff.create(request.body, executor);
        return { status: 201, body: member, location: `/staff/${member.id}` };
      });
      return reply;
    },
  );

  app.get(
    '/staff/:id',
    {
      config,
      schema: {
        tags,
        summary: 'Get one staff account',
        params: IdParams,
        response: { 200: StaffMember, ...problems(400, 404) },
      },
    },
    (request) => staff.get(request.params.id),
  );

  app.patch(
    '/staff/:id',
    {
      config,
      schema: {
        tags,
        summary: "Disable or enable a staff account, or set its password (either ends the account's tokens)",
        headers: IfMatchHeader,
        params: IdParams,
        body: UpdateStaffBody,
        response: { 200: StaffMember, ...problems(...WRITE_ERRORS, ...AUTH_ERRORS, 404, 409, 412) },
      },
    },
    (request) => staff.update(request.params.id, request.body, request.headers['if-match']),
  );
};
