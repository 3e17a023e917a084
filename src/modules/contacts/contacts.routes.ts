import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { sendPage } from '../../http/pages.js';
import { NoContent, problems, WRITE_ERRORS } from '../../http/responses.js';
import { IdParams } from '../../lib/ids.js';
import { PageQuery } from '../../lib/pagination.js';
import type { CustomersService } from '../customers/customers.service.js';
import { Contact, CreateContactBody, UpdateContactBody } from './contacts.schemas.js';
import type { ContactsService } from './contacts.service.js';

const tags = ['contacts'];
const ListQuery = Type.Object(
  { limit: PageQuery.limit, cursor: Type.Optional(PageQuery.cursor) },
  { additionalProperties: false },
);

export const contactsRoutes: FastifyPluginAsyncTypebox<{
  contacts: ContactsService;
  customers: CustomersService;
}> = async (app, { contacts }) => {
  app.get(
    '/contacts',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary: 'List contacts',
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
      config: { access: 'authenticated' },
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
      config: { access: 'authenticated' },
      schema: { tags, summary: 'Get one contact', params: IdParams, response: { 200: Contact, ...problems(400, 404) } },
    },
    (request) => contacts.get(request.params.id, request.actor),
  );

  app.post(
    '/contacts',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary: 'Create a contact (address and phone number)',
        body: CreateContactBody,
        response: { 201: Contact, ...problems(...WRITE_ERRORS) },
      },
    },
    async (request, reply) => {
      const contact = await contacts.create(request.body, request.actor);
      return reply.code(201).header('Location', `/contacts/${contact.id}`).send(contact);
    },
  );

  app.patch(
    '/contacts/:id',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary: 'Update a contact; null clears an optional field',
        params: IdParams,
        body: UpdateContactBody,
        response: { 200: Contact, ...problems(...WRITE_ERRORS, 404) },
      },
    },
    (request) => contacts.update(request.params.id, request.body, request.actor),
  );

  app.delete(
    '/contacts/:id',
    {
      config: { access: 'authenticated' },
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
