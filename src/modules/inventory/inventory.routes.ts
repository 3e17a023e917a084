import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { respondOnce } from '../../http/idempotent.js';
import { sendPage } from '../../http/pages.js';
import { IdempotencyKeyHeader, problems, WRITE_ERRORS } from '../../http/responses.js';
import { IdParams } from '../../lib/ids.js';
import type { IdempotencyService } from '../idempotency/idempotency.service.js';
import { Product } from '../products/products.schemas.js';
import type { StockService } from '../products/stock.service.js';
import { AdjustmentBody, LowStockQuery, Movement, MovementListQuery, MovementParams } from './inventory.schemas.js';
import type { InventoryLedger } from './inventory.service.js';

const tags = ['inventory'];
const config = { access: 'staff' as const };

type Deps = { stock: StockService; ledger: InventoryLedger; idempotency: IdempotencyService };

export const inventoryRoutes: FastifyPluginAsyncTypebox<Deps> = async (app, { stock, ledger, idempotency }) => {
  app.post(
    '/products/:id/inventory-adjustments',
    {
      config,
      schema: {
        tags,
        summary: 'Add or remove stock with a reason (a result below zero is refused with 409)',
        headers: IdempotencyKeyHeader,
        params: IdParams,
        body: AdjustmentBody,
        response: { 201: Movement, ...problems(...WRITE_ERRORS, 404, 409, 422) },
      },
    },
    async (request, reply) => {
      await respondOnce(request, reply, idempotency, async (executor) => {
        const { id } = request.params;
        const movement = await stock.adjust(id, request.body.delta, request.body.reason, request.actor, executor);
        return { status: 201, body: movement, location: `/products/${id}/inventory-movements/${movement.id}` };
      });
      return reply;
    },
  );

  app.get(
    '/products/:id/inventory-movements',
    {
      config,
      schema: {
        tags,
        summary: "A product's stock ledger, oldest first; its quantities add up to the product's stock",
        params: IdParams,
        querystring: MovementListQuery,
        response: { 200: Type.Array(Movement), ...problems(400, 404) },
      },
    },
    async (request, reply) => {
      await stock.assertProductExists(request.params.id);
      return sendPage(request, reply, await ledger.list(request.params.id, request.query.limit, request.query.cursor));
    },
  );

  app.get(
    '/products/:id/inventory-movements/:movement_id',
    {
      config,
      schema: {
        tags,
        summary: 'One stock movement',
        params: MovementParams,
        response: { 200: Movement, ...problems(400, 404) },
      },
    },
    (request) => ledger.get(request.params.id, request.params.movement_id),
  );

  app.get(
    '/inventory/low-stock',
    {
      config,
      schema: {
        tags,
        summary: 'Active products with stock at or below the threshold, lowest first',
        querystring: LowStockQuery,
        response: { 200: Type.Array(Product), ...problems(400) },
      },
    },
    async (request, reply) => {
      const { threshold, limit, cursor } = request.query;
      return sendPage(request, reply, await stock.lowStock(threshold, limit, cursor));
    },
  );
};
