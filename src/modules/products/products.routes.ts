import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { sendPage } from '../../http/pages.js';
import { respondOnce } from '../../http/idempotent.js';
import { IdempotencyKeyHeader, IfMatchHeader, NoContent, problems, WRITE_ERRORS } from '../../http/responses.js';
import type { IdempotencyService } from '../idempotency/idempotency.service.js';
import { IdParams } from '../../lib/ids.js';
import { CreateProductBody, Product, ProductListQuery, UpdateProductBody } from './products.schemas.js';
import type { ProductsService } from './products.service.js';

const tags = ['products'];

export const productsRoutes: FastifyPluginAsyncTypebox<{
  products: ProductsService;
  idempotency: IdempotencyService;
}> = async (app, { products, idempotency }) => {
  app.get(
    '/products',
    {
      config: { access: 'public', cache: 'public' },
      schema: {
        tags,
        summary: 'List and search products',
        querystring: ProductListQuery,
        response: { 200: Type.Array(Product), ...problems(400) },
      },
    },
    async (request, reply) => sendPage(request, reply, await products.list(request.query)),
  );

  app.get(
    '/products/:id',
    {
      config: { access: 'public', cache: 'public' },
      schema: {
        tags,
        summary: 'Get one product (archived ones too, with active false)',
        params: IdParams,
        response: { 200: Product, ...problems(400, 404) },
      },
    },
    (request) => products.get(request.params.id),
  );

  app.post(
    '/products',
    {
      config: { access: 'staff' },
      schema: {
        tags,
        summary: 'Create a product; its stock is written to the ledger as the initial movement',
        headers: IdempotencyKeyHeader,
        body: CreateProductBody,
        response: { 201: Product, ...problems(...WRITE_ERRORS, 409, 422) },
      },
    },
    async (request, reply) => {
      await respondOnce(request, reply, idempotency, async (executor) => {
        const product = await products.create(request.body, request.actor, executor);
        return { status: 201, body: product, location: `/products/${product.id}` };
      });
      return reply;
    },
  );

  app.patch(
    '/products/:id',
    {
      config: { access: 'staff' },
      schema: {
        tags,
        summary: 'Update a product; a new stock is written to the ledger as an adjustment',
        headers: IfMatchHeader,
        params: IdParams,
        body: UpdateProductBody,
        response: { 200: Product, ...problems(...WRITE_ERRORS, 404, 409, 412) },
      },
    },
    (request) => products.update(request.params.id, request.body, request.actor, request.headers['if-match']),
  );

  app.delete(
    '/products/:id',
    {
      config: { access: 'staff' },
      schema: {
        tags,
        summary: 'Delete a product; one that appears in an order is archived instead',
        params: IdParams,
        response: { 204: NoContent, ...problems(400, 404) },
      },
    },
    async (request, reply) => {
      await products.remove(request.params.id);
      return reply.code(204).send();
    },
  );
};
