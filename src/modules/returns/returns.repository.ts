import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { returnItems, returns, type ReturnStatus } from '../../db/schema/index.js';

export type ReturnRow = typeof returns.$inferSelect;
export type ReturnItemRow = typeof returnItems.$inferSelect;

export async function insertReturn(db: Db, values: typeof returns.$inferInsert): Promise<ReturnRow> {
  const [row] = await db.insert(returns).values(values).returning();
  return row!;
}

export async function insertItems(db: Db, values: (typeof returnItems.$inferInsert)[]): Promise<void> {
  if (values.length > 0) await db.insert(returnItems).values(values);
}

export async function findReturn(db: Db, id: number, forUpdate = false): Promise<ReturnRow | undefined> {
  const query = db.select().from(returns).where(eq(returns.id, id));
  const [row] = forUpdate ? await query.for('update') : await query;
  return row;
}

export function returnsOfOrder(db: Db, orderId: number): Promise<ReturnRow[]> {
  return db.select().from(returns).where(eq(returns.orderId, orderId)).orderBy(asc(returns.id));
}

export async function itemsOf(db: Db, returnIds: number[]): Promise<ReturnItemRow[]> {
  if (returnIds.length === 0) return [];
  return db.select().from(returnItems).where(inArray(returnItems.returnId, returnIds)).orderBy(asc(returnItems.id));
}

/** Units of each order item that open (requested) and received returns already hold. */
export async function heldByItem(db: Db, orderId: number): Promise<Map<number, number>> {
  const rows = await db
    .select({ orderItemId: returnItems.orderItemId, quantity: sql<number>`sum(${returnItems.quantity})::int` })
    .from(returnItems)
    .innerJoin(returns, eq(returns.id, returnItems.returnId))
    .where(and(eq(returns.orderId, orderId), inArray(returns.status, ['requested', 'received'])))
    .groupBy(returnItems.orderItemId);
  return new Map(rows.map((r) => [r.orderItemId, Number(r.quantity)]));
}

export async function setStatus(db: Db, id: number, status: ReturnStatus): Promise<ReturnRow> {
  const [row] = await db
    .update(returns)
    .set({ status, updatedAt: sql`now()` })
    .where(eq(returns.id, id))
    .returning();
  return row!;
}
