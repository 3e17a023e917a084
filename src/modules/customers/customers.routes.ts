import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { respondOnce } from '../../http/idempotent.js';
import { sendPage } from '../../http/pages.js';
import { IdempotencyKeyHeader, IfMatchHeader, NoContent, problems, WRITE_ERRORS } from '../../http/responses.js';
import { IdParams } from '../../lib/ids.js';
import { PageQuery } from '../../lib/pagination.js';
import type { IdempotencyService } from '../idempotency/idempotency.service.js';
import { CreateCustomerBody, Customer, CustomerContactParams, UpdateCustomerBody } from './customers.schemas.js';
import type { CustomersService } from './customers.service.js';

const tags = ['customers'];

type Deps = { customers: CustomersService; idempotency: IdempotencyService };

export const customersRoutes: FastifyPluginAsyncTypebox<Deps> = async (app, { customers, idempotency }) => {
  app.get(
    '/customers',
    {
      config: { access: 'staff' },
      schema: {
        tags,
        summary: 'List customers (staff)',
        querystring: Type.Object(
          { limit: PageQuery.limit, cursor: Type.Optional(PageQuery.cursor) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(Customer), ...problems(400) },
      },
    },
    async (request, reply) => sendPage(request, reply, await customers.list(request.query.limit, request.query.cursor)),
  );

  app.get(
    '/customers/:id',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary: 'Get one customer',
        params: IdParams,
        response: { 200: Customer, ...problems(400, 404) },
      },
    },
    (request) => customers.get(request.params.id, request.actor),
  );

  app.post(
    '/customers',
    {
      config: { access: 'public' },
      schema: {
        tags,
        summary: 'Create a customer (sign up)',
        headers: IdempotencyKeyHeader,
        body: CreateCustomerBody,
        response: { 201: Customer, ...problems(...WRITE_ERRORS, 409, 422) },
      },
    },
    async (request, reply) => {
      await respondOnce(request, reply, idempotency, async (executor) => {
        const customer = await customers.create(request.body, request.actor, executor);
        return { status: 201, body: customer, location: `/customers/${customer.id}` };
      });
      return reply;
    },
  );

  app.patch(
    '/customers/:id',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary: 'Update a customer; contact_id replaces the linked set',
        headers: IfMatchHeader,
        params: IdParams,
        body: UpdateCustomerBody,
        response: { 200: Customer, ...problems(...WRITE_ERRORS, 404, 409, 412) },
      },
    },
    (request) => customers.update(request.params.id, request.body, request.actor, request.headers['if-match']),
  );

  app.delete(
    '/customers/:id',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary: 'Delete a customer (erased in place when they have orders)',
        params: IdParams,
        response: { 204: NoContent, ...problems(400, 404) },
      },
    },
    async (request, reply) => {
      await customers.remove(request.params.id, request.actor);
      return reply.code(204).send();
    },
  );

  app.put(
    '/customers/:id/contacts/:contact_id',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary: 'Link a contact to a customer (idempotent)',
        params: CustomerContactParams,
        response: { 204: NoContent, ...problems(400, 404) },
      },
    },
    async (request, reply) => {
      await customers.linkContact(request.params.id, request.params.contact_id, request.actor);
      return reply.code(204).send();
    },
  );

  app.delete(
    '/customers/:id/contacts/:contact_id',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary: 'Unlink a contact from a customer',
        params: CustomerContactParams,
        response: { 204: NoContent, ...problems(400, 404) },
      },
    },
    async (request, reply) => {
      await customers.unlinkContact(request.params.id, request.params.contact_id, request.actor);
      return reply.code(204).send();
    },
  );
};
