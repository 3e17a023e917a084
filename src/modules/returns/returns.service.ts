import type { Db } from '../../db/client.js';
import { inTransaction } from '../../db/transaction.js';
import { actorLabel, isAdmin, type Actor } from '../../lib/actor.js';
import { conflict, invalidField, notFound } from '../../lib/errors.js';
import type { InventoryLedger } from '../inventory/inventory.service.js';
import type { OrdersService } from '../orders/orders.service.js';
import type { PaymentsService } from '../payments/payments.service.js';
import type { StockService } from '../products/stock.service.js';
import type { ShipmentsService } from '../shipments/shipments.service.js';
import type { CreateReturnBody, Return } from './returns.schemas.js';
import * as repo from './returns.repository.js';

const DAY_MS = 24 * 3600 * 1000;

function toReturn(row: repo.ReturnRow, items: repo.ReturnItemRow[]): Return {
  return {
    id: row.id,
    order_id: row.orderId,
    status: row.status,
    reason: row.reason,
    items: items.map((i) => ({ order_item_id: i.orderItemId, quantity: i.quantity })),
    refund_amount: row.refundAmount,
    created_at: row.createdAt.toISOString(),
  };
}

type Deps = {
  db: Db;
  orders: OrdersService;
  shipments: ShipmentsService;
  stock: StockService;
  ledger: InventoryLedger;
  payments: PaymentsService;
  returnWindowDays: number;
};

export function createReturnsService({ db, orders, shipments, stock, ledger, payments, returnWindowDays }: Deps) {
  async function present(executor: Db, rows: repo.ReturnRow[]): Promise<Return[]> {
    const items = await repo.itemsOf(
      executor,
      rows.map((r) => r.id),
    );
    return rows.map((r) =>
      toReturn(
        r,
        items.filter((i) => i.returnId === r.id),
      ),
    );
  }
  const presentOne = async (executor: Db, row: repo.ReturnRow) => (await present(executor, [row]))[0]!;

  /** The return locked with its order, if the caller may see the order (else it counts as missing). */
  async function lockVisible(tx: Db, id: number, actor: Actor | null) {
    const found = await repo.findReturn(tx, id);
    if (!found) throw notFound('return');
    const order = await orders.lockVisible(tx, found.orderId, actor).catch(() => undefined);
    if (!order) throw notFound('return');
    const row = (await repo.findReturn(tx, id, true))!;
    if (row.status !== 'requested') {
      throw conflict(
        'RETURN_NOT_REQUESTED',
        `the return is ${row.status}; only a requested return can change`,
        undefined,
        {
          current_status: row.status,
        },
      );
    }
    return { row, order };
  }

  return {
    async create(orderId: number, input: CreateReturnBody, actor: Actor | null, executor: Db = db): Promise<Return> {
      return inTransaction(executor, async (tx) => {
        const order = await orders.describe(tx, await orders.lockVisible(tx, orderId, actor));
        const byId = new Map(order.items.map((i) => [i.id, i]));
        const seen = new Set<number>();
        input.items.forEach((line, index) => {
          const field = `items[${index}].order_item_id`;
          if (!byId.has(line.order_item_id)) {
            throw invalidField(field, `order item ${line.order_item_id} is not in this order`, 'ORDER_ITEM_NOT_FOUND');
          }
          if (seen.has(line.order_item_id)) {
            throw invalidField(field, `order item ${line.order_item_id} appears more than once`, 'DUPLICATE_ITEM');
          }
          seen.add(line.order_item_id);
        });
        // Customers return delivered orders within the window; staff take back anything shipped, any time.
        if (!isAdmin(actor)) {
          if (order.status !== 'delivered' || order.delivered_at === null) {
            throw conflict(
              'ORDER_NOT_DELIVERED',
              `the order is ${order.status}; only a delivered order can be returned`,
              undefined,
              {
                current_status: order.status,
              },
            );
          }
          if (Date.now() > Date.parse(order.delivered_at) + returnWindowDays * DAY_MS) {
            throw conflict('RETURN_WINDOW_CLOSED', `returns are taken within ${returnWindowDays} days of delivery`);
          }
        }
        const shipped = await shipments.shippedByItem(tx, orderId);
        const held = await repo.heldByItem(tx, orderId);
        input.items.forEach((line, index) => {
          const open = (shipped.get(line.order_item_id) ?? 0) - (held.get(line.order_item_id) ?? 0);
          if (line.quantity > open) {
            throw conflict(
              'RETURN_EXCEEDS_SHIPPED',
              `only ${open} of order item ${line.order_item_id} can still be returned`,
              [{ field: `items[${index}].quantity`, message: `must not exceed ${open}` }],
            );
          }
        });
        const refundAmount = input.items.reduce(
          (sum, l) => sum + l.quantity * byId.get(l.order_item_id)!.unit_price,
          0,
        );
        const row = await repo.insertReturn(tx, {
          orderId,
          reason: input.reason,
          refundAmount,
          requestedBy: actorLabel(actor),
        });
        await repo.insertItems(
          tx,
          input.items.map((l) => ({ returnId: row.id, orderItemId: l.order_item_id, quantity: l.quantity })),
        );
        return presentOne(tx, row);
      });
    },

    async get(id: number, actor: Actor | null): Promise<Return> {
      const row = await repo.findReturn(db, id);
      if (!row) throw notFound('return');
      await orders.get(row.orderId, actor).catch(() => Promise.reject(notFound('return')));
      return presentOne(db, row);
    },

    async listOfOrder(orderId: number, actor: Actor | null): Promise<Return[]> {
      await orders.get(orderId, actor);
      return present(db, await repo.returnsOfOrder(db, orderId));
    },

    /** The items go back in stock (with their ledger rows) and the refund goes out, in one transaction. */
    async receive(id: number, actor: Actor | null, executor: Db = db): Promise<Return> {
      return inTransaction(executor, async (tx) => {
        const { row, order } = await lockVisible(tx, id, actor);
        const by = actorLabel(actor);
        if (row.refundAmount > 0)
          await payments.refundCaptured(tx, order.id, row.refundAmount, `return ${id}: ${row.reason}`);
        const items = await repo.itemsOf(tx, [id]);
        const productOf = new Map((await orders.describe(tx, order)).items.map((i) => [i.id, i.product_id]));
        const lines = items.map((i) => ({ productId: productOf.get(i.orderItemId)!, quantity: i.quantity }));
        await stock.restock(tx, lines);
        await ledger.record(
          tx,
          lines.map((l) => ({ ...l, type: 'return' as const, reason: `return ${id}`, orderId: order.id, actor: by })),
        );
        return presentOne(tx, await repo.setStatus(tx, id, 'received'));
      });
    },

    async reject(id: number, actor: Actor | null, executor: Db = db): Promise<Return> {
      return inTransaction(executor, async (tx) => {
        await lockVisible(tx, id, actor);
        return presentOne(tx, await repo.setStatus(tx, id, 'rejected'));
      });
    },
  };
}

export type ReturnsService = ReturnType<typeof createReturnsService>;
