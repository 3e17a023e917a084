import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { respondOnce } from '../../http/idempotent.js';
import { sendPage } from '../../http/pages.js';
import { IdempotencyKeyHeader, IfMatchHeader, problems, WRITE_ERRORS } from '../../http/responses.js';
import { IdParams } from '../../lib/ids.js';
import type { IdempotencyService } from '../idempotency/idempotency.service.js';
import { CreateOrderBody, CustomerOrdersQuery, Order, OrderListQuery, UpdateOrderBody } from './orders.schemas.js';
import type { OrdersService } from './orders.service.js';

const tags = ['orders'];
const config = { access: 'authenticated' as const };

type Deps = { orders: OrdersService; idempotency: IdempotencyService };

export const ordersRoutes: FastifyPluginAsyncTypebox<Deps> = async (app, { orders, idempotency }) => {
  app.post(
    '/orders',
    {
      config,
      schema: {
        tags,
        summary: 'Place an order; prices come from the products, stock is taken in the same transaction',
        headers: IdempotencyKeyHeader,
        body: CreateOrderBody,
        response: { 201: Order, ...problems(...WRITE_ERRORS, 409, 422) },
      },
    },
    async (request, reply) => {
      await respondOnce(request, reply, idempotency, async (executor) => {
        const order = await orders.create(request.body, request.actor, executor);
        return { status: 201, body: order, location: `/orders/${order.id}` };
      });
      return reply;
    },
  );

  app.get(
    '/orders',
    {
      config,
      schema: {
        tags,
        summary: 'List orders (a customer sees only their own)',
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
      config,
      schema: {
        tags,
        summary: 'Get one order with its items and status history',
        params: IdParams,
        response: { 200: Order, ...problems(400, 404) },
      },
    },
    (request) => orders.get(request.params.id, request.actor),
  );

  app.patch(
    '/orders/:id',
    {
      config: { access: 'staff' },
      schema: {
        tags,
        summary:
          'Move an order to another status (staff): pending → paid → shipped → delivered, pending or paid → cancelled',
        headers: IfMatchHeader,
        params: IdParams,
        body: UpdateOrderBody,
        response: { 200: Order, ...problems(...WRITE_ERRORS, 404, 409, 412) },
      },
    },
    (request) =>
      orders.changeStatus(request.params.id, request.body.status, request.actor, request.headers['if-match']),
  );

  app.post(
    '/orders/:id/cancel',
    {
      config,
      schema: {
        tags,
        summary: 'Cancel an order and put its stock back (its customer while pending; staff while pending or paid)',
        headers: IdempotencyKeyHeader,
        params: IdParams,
        response: { 200: Order, ...problems(400, 404, 409, 422) },
      },
    },
    async (request, reply) => {
      await respondOnce(request, reply, idempotency, async (executor) => ({
        status: 200,
        body: await orders.cancel(request.params.id, request.actor, executor),
      }));
      return reply;
    },
  );

  app.get(
    '/customers/:id/orders',
    {
      config,
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
