import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { respondOnce } from '../../http/idempotent.js';
import { IdempotencyKeyHeader, problems, WRITE_ERRORS } from '../../http/responses.js';
import { IdParams } from '../../lib/ids.js';
import type { IdempotencyService } from '../idempotency/idempotency.service.js';
import { CreateReturnBody, Return } from './returns.schemas.js';
import type { ReturnsService } from './returns.service.js';

const tags = ['returns'];
const signedIn = { access: 'authenticated' as const };
const staffOnly = { access: 'staff' as const };

type Deps = { returns: ReturnsService; idempotency: IdempotencyService };

export const returnsRoutes: FastifyPluginAsyncTypebox<Deps> = async (app, { returns, idempotency }) => {
  app.post(
    '/orders/:id/returns',
    {
      config: signedIn,
      schema: {
        tags,
        summary:
          'Ask to return shipped items: the customer on a delivered order within RETURN_WINDOW_DAYS, staff any time',
        headers: IdempotencyKeyHeader,
        params: IdParams,
        body: CreateReturnBody,
        response: { 201: Return, ...problems(...WRITE_ERRORS, 404, 409, 422) },
      },
    },
    async (request, reply) => {
      await respondOnce(request, reply, idempotency, async (executor) => {
        const created = await returns.create(request.params.id, request.body, request.actor, executor);
        return { status: 201, body: created, location: `/returns/${created.id}` };
      });
      return reply;
    },
  );

  app.get(
    '/orders/:id/returns',
    {
      config: signedIn,
      schema: {
        tags,
        summary: "An order's returns",
        params: IdParams,
        response: { 200: Type.Array(Return), ...problems(400, 404) },
      },
    },
    (request) => returns.listOfOrder(request.params.id, request.actor),
  );

  app.get(
    '/returns/:id',
    {
      config: signedIn,
      schema: { tags, summary: 'One return', params: IdParams, response: { 200: Return, ...problems(400, 404) } },
    },
    (request) => returns.get(request.params.id, request.actor),
  );

  app.post(
    '/returns/:id/receive',
    {
      config: staffOnly,
      schema: {
        tags,
        summary:
          'The items arrived: back in stock (ledger type return) and refund_amount refunded, oldest payment first',
        headers: IdempotencyKeyHeader,
        params: IdParams,
        response: { 200: Return, ...problems(400, 404, 409, 422) },
      },
    },
    async (request, reply) => {
      await respondOnce(request, reply, idempotency, async (executor) => ({
        status: 200,
        body: await returns.receive(request.params.id, request.actor, executor),
      }));
      return reply;
    },
  );

  app.post(
    '/returns/:id/reject',
    {
      config: staffOnly,
      schema: {
        tags,
        summary: 'Refuse a requested return; nothing goes back in stock and nothing is refunded',
        headers: IdempotencyKeyHeader,
        params: IdParams,
        response: { 200: Return, ...problems(400, 404, 409, 422) },
      },
    },
    async (request, reply) => {
      await respondOnce(request, reply, idempotency, async (executor) => ({
        status: 200,
        body: await returns.reject(request.params.id, request.actor, executor),
      }));
      return reply;
    },
  );
};
