import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { sendPage } from '../../http/pages.js';
import { problems, WRITE_ERRORS } from '../../http/responses.js';
import { IdParams } from '../../lib/ids.js';
import { CreateOrderBody, CustomerOrdersQuery, Order, OrderListQuery } from './orders.schemas.js';
import type { OrdersService } from './orders.service.js';

const tags = ['orders'];

export const ordersRoutes: FastifyPluginAsyncTypebox<{ orders: OrdersService }> = async (app, { orders }) => {
  app.post(
    '/orders',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary: 'Place an order; prices come from the products, stock is taken in the same transaction',
        body: CreateOrderBody,
        response: { 201: Order, ...problems(...WRITE_ERRORS, 409) },
      },
    },
    async (request, reply) => {
      const order = await orders.create(request.body, request.actor);
      return reply.code(201).header('Location', `/orders/${order.id}`).send(order);
    },
  );

  app.get(
    '/orders',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary: 'List orders',
        querystring: OrderListQuery,
        response: { 200: Type.Array(Order), ...problems(400) },
      },
    },
    async (request, reply) => {
      const { customer_id, status, limit, cursor } = request.query;
      return sendPage(
        request,
        reply,
        await orders.list({ customerId: customer_id, status }, limit, cursor, request.actor),
      );
    },
  );

  app.get(
    '/orders/:id',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary: 'Get one order with its items',
        params: IdParams,
        response: { 200: Order, ...problems(400, 404) },
      },
    },
    (request) => orders.get(request.params.id, request.actor),
  );

  app.get(
    '/customers/:id/orders',
    {
      config: { access: 'authenticated' },
      schema: {
        tags: ['customers', ...tags],
        summary: "List a customer's orders",
        params: IdParams,
        querystring: CustomerOrdersQuery,
        response: { 200: Type.Array(Order), ...problems(400, 404) },
      },
    },
    async (request, reply) => {
      const { status, limit, cursor } = request.query;
      return sendPage(
        request,
        reply,
        await orders.listOfCustomer(request.params.id, status, limit, cursor, request.actor),
      );
    },
  );
};
