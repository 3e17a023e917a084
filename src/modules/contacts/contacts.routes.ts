import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { respondOnce } from '../../http/idempotent.js';
import { sendPage } from '../../http/pages.js';
import { IdempotencyKeyHeader, IfMatchHeader, NoContent, problems, WRITE_ERRORS } from '../../http/responses.js';
import { IdParams } from '../../lib/ids.js';
import { PageQuery } from '../../lib/pagination.js';
import type { IdempotencyService } from '../idempotency/idempotency.service.js';
import { Contact, CreateContactBody, UpdateContactBody } from './contacts.schemas.js';
import type { ContactsService } from './contacts.service.js';

const tags = ['contacts'];
const config = { access: 'authenticated' as const };
const ListQuery = Type.Object(
  { limit: PageQuery.limit, cursor: Type.Optional(PageQuery.cursor) },
  { additionalProperties: false },
);

type Deps = { contacts: ContactsService; idempotency: IdempotencyService };

export const contactsRoutes: FastifyPluginAsyncTypebox<Deps> = async (app, { contacts, idempotency }) => {
  app.get(
    '/contacts',
    {
      config,
      schema: {
        tags,
        summary: 'List contacts (a customer sees only their own)',
        querystring: ListQuery,
        response: { 200: Type.Array(Contact), ...problems(400) },
      },
    },
    async (request, reply) =>
      sendPage(request, reply, await contacts.list(request.query.limit, request.query.cursor, request.actor)),
  );

  app.get(
    '/customers/:id/contacts',
    {
      config,
      schema: {
        tags: ['customers', ...tags],
        summary: "List a customer's linked contacts",
        params: IdParams,
        querystring: ListQuery,
        response: { 200: Type.Array(Contact), ...problems(400, 404) },
      },
    },
    async (request, reply) =>
      sendPage(
        request,
        reply,
        await contacts.listOfCustomer(request.params.id, request.query.limit, request.query.cursor, request.actor),
      ),
  );

  app.get(
    '/contacts/:id',
    {
      config,
      schema: { tags, summary: 'Get one contact', params: IdParams, response: { 200: Contact, ...problems(400, 404) } },
    },
    (request) => contacts.get(request.params.id, request.actor),
  );

  app.post(
    '/contacts',
    {
      config,
      schema: {
        tags,
        summary: "Create a contact (address and phone number); a customer's is linked to them at once",
        headers: IdempotencyKeyHeader,
        body: CreateContactBody,
        response: { 201: Contact, ...problems(...WRITE_ERRORS, 409, 422) },
      },
    },
    async (request, reply) => {
      await respondOnce(request, reply, idempotency, async (executor) => {
        const contact = await contacts.create(request.body, request.actor, executor);
        return { status: 201, body: contact, location: `/contacts/${contact.id}` };
      });
      return reply;
    },
  );

  app.patch(
    '/contacts/:id',
    {
      config,
      schema: {
        tags,
        summary: 'Update a contact; null clears an optional field (409 for a customer when others share it)',
        headers: IfMatchHeader,
        params: IdParams,
        body: UpdateContactBody,
        response: { 200: Contact, ...problems(...WRITE_ERRORS, 404, 409, 412) },
      },
    },
    (request) => contacts.update(request.params.id, request.body, request.actor, request.headers['if-match']),
  );

  app.delete(
    '/contacts/:id',
    {
      config,
      schema: {
        tags,
        summary: 'Delete a contact; it is unlinked from every customer, orders keep their copy',
        params: IdParams,
        response: { 204: NoContent, ...problems(400, 404) },
      },
    },
    async (request, reply) => {
      await contacts.remove(request.params.id, request.actor);
      return reply.code(204).send();
    },
  );
};
