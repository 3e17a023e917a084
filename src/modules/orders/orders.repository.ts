import { and, asc, eq, gt, inArray, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { prepared } from '../../db/prepared.js';
import {
  orderItems,
  orders,
  orderStatusHistory,
  type FulfillmentStatus,
  type OrderStatus,
} from '../../db/schema/index.js';

export type OrderRow = typeof orders.$inferSelect;
export type OrderItemRow = typeof orderItems.$inferSelect;

export async function findOrder(db: Db, id: number): Promise<OrderRow | undefined> {
  const query = prepared(db, 'order_by_id', (d) =>
    d
      .select()
      .from(orders)
      .where(eq(orders.id, sql.placeholder('id')))
      .prepare('order_by_id'),
  );
  const [row] = await query.execute({ id });
  return row;
}

export function listOrders(
  db: Db,
  filter: { customerId?: number; status?: OrderStatus },
  afterId: number | undefined,
  take: number,
): Promise<OrderRow[]> {
  const conditions: (SQL | undefined)[] = [
    filter.customerId === undefined ? undefined : eq(orders.customerId, filter.customerId),
    filter.status === undefined ? undefined : eq(orders.status, filter.status),
    afterId === undefined ? undefined : gt(orders.id, afterId),
  ];
  return db
    .select()
    .from(orders)
    .where(and(...conditions))
    .orderBy(asc(orders.id))
    .limit(take);
}

/** Items of many orders in one query, so a page of orders costs two queries whatever its size. */
export async function itemsByOrder(db: Db, orderIds: number[]): Promise<Map<number, OrderItemRow[]>> {
  const result = new Map<number, OrderItemRow[]>(orderIds.map((id) => [id, []]));
  if (orderIds.length === 0) return result;
  // One order (a single read, a create) is the hot path: a prepared query.
  const rows =
    orderIds.length === 1
      ? await prepared(db, 'items_of_order', (d) =>
          d
            .select()
            .from(orderItems)
            .where(eq(orderItems.orderId, sql.placeholder('id')))
            .orderBy(asc(orderItems.id))
            .prepare('items_of_order'),
        ).execute({ id: orderIds[0] })
      : await db.select().from(orderItems).where(inArray(orderItems.orderId, orderIds)).orderBy(asc(orderItems.id));
  for (const row of rows) result.get(row.orderId)?.push(row);
  return result;
}

export type HistoryRow = typeof orderStatusHistory.$inferSelect;

export async function insertHistory(db: Db, orderId: number, status: OrderStatus, by: string): Promise<HistoryRow> {
  const [row] = await db.insert(orderStatusHistory).values({ orderId, status, by }).returning();
  return row!;
}

/** Histories of many orders in one query, oldest entry first. */
export async function historyByOrder(db: Db, orderIds: number[]): Promise<Map<number, HistoryRow[]>> {
  const result = new Map<number, HistoryRow[]>(orderIds.map((id) => [id, []]));
  if (orderIds.length === 0) return result;
  const rows =
    orderIds.length === 1
      ? await prepared(db, 'history_of_order', (d) =>
          d
            .select()
            .from(orderStatusHistory)
            .where(eq(orderStatusHistory.orderId, sql.placeholder('id')))
            .orderBy(asc(orderStatusHistory.id))
            .prepare('history_of_order'),
        ).execute({ id: orderIds[0] })
      : await db
          .select()
          .from(orderStatusHistory)
          .where(inArray(orderStatusHistory.orderId, orderIds))
          .orderBy(asc(orderStatusHistory.id));
  for (const row of rows) result.get(row.orderId)?.push(row);
  return result;
}

export async function lockOrder(db: Db, id: number): Promise<OrderRow | undefined> {
  const [row] = await db.select().from(orders).where(eq(orders.id, id)).for('update');
  return row;
}

export async function setStatus(db: Db, id: number, status: OrderStatus, deliveredAt?: Date): Promise<OrderRow> {
  const [row] = await db
    .update(orders)
    .set({ status, ...(deliveredAt ? { deliveredAt } : {}), updatedAt: sql`now()` })
    .where(eq(orders.id, id))
    .returning();
  return row!;
}

export async function setFulfilment(db: Db, id: number, fulfillmentStatus: FulfillmentStatus): Promise<OrderRow> {
  const [row] = await db
    .update(orders)
    .set({ fulfillmentStatus, updatedAt: sql`now()` })
    .where(eq(orders.id, id))
    .returning();
  return row!;
}

/** Pending orders older than the TTL that hold no captured money: the ones the server cancels by itself. */
export async function expiredPendingOrderIds(db: Db, ttlMinutes: number, take: number): Promise<number[]> {
  const rows = await db
    .select({ id: orders.id })
    .from(orders)
    .where(
      and(
        eq(orders.status, 'pending'),
        sql`${orders.createdAt} < now() - make_interval(mins => ${ttlMinutes})`,
        sql`NOT EXISTS (SELECT 1 FROM payments p WHERE p.order_id = ${orders.id} AND p.amount_captured > p.amount_refunded)`,
      ),
    )
    .orderBy(asc(orders.id))
    .limit(take);
  return rows.map((r) => r.id);
}
