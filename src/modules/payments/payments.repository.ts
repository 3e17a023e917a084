import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { prepared } from '../../db/prepared.js';
import { paymentEvents, payments, refunds } from '../../db/schema/index.js';

export type PaymentRow = typeof payments.$inferSelect;
export type RefundRow = typeof refunds.$inferSelect;
export type EventRow = typeof paymentEvents.$inferSelect;

export async function insertPayment(db: Db, values: typeof payments.$inferInsert): Promise<PaymentRow> {
  const [row] = await db.insert(payments).values(values).returning();
  return row!;
}

export async function findPayment(db: Db, id: number, forUpdate = false): Promise<PaymentRow | undefined> {
  const query = db.select().from(payments).where(eq(payments.id, id));
  const [row] = forUpdate ? await query.for('update') : await query;
  return row;
}

export async function findByReference(db: Db, provider: string, reference: string): Promise<PaymentRow | undefined> {
  const [row] = await db
    .select()
    .from(payments)
    .where(and(eq(payments.provider, provider), eq(payments.providerReference, reference)));
  return row;
}

export function paymentsOfOrder(db: Db, orderId: number, forUpdate = false): Promise<PaymentRow[]> {
  const query = db.select().from(payments).where(eq(payments.orderId, orderId)).orderBy(asc(payments.id));
  return forUpdate ? query.for('update') : query;
}

export async function updatePayment(
  db: Db,
  id: number,
  values: Partial<Pick<PaymentRow, 'status' | 'amountCaptured' | 'amountRefunded' | 'failureReason'>>,
): Promise<PaymentRow> {
  const [row] = await db
    .update(payments)
    .set({ ...values, updatedAt: sql`now()` })
    .where(eq(payments.id, id))
    .returning();
  return row!;
}

export async function insertRefund(db: Db, values: typeof refunds.$inferInsert): Promise<RefundRow | undefined> {
  const [row] = await db.insert(refunds).values(values).onConflictDoNothing().returning();
  return row;
}

export async function refundsOf(db: Db, paymentIds: number[]): Promise<RefundRow[]> {
  if (paymentIds.length === 0) return [];
  return db.select().from(refunds).where(inArray(refunds.paymentId, paymentIds)).orderBy(asc(refunds.id));
}

/** False when this provider already sent this event id: the caller then changes nothing. */
export async function recordEvent(db: Db, values: typeof paymentEvents.$inferInsert): Promise<EventRow | undefined> {
  const [row] = await db.insert(paymentEvents).values(values).onConflictDoNothing().returning();
  return row;
}

export async function settleEvent(
  db: Db,
  id: number,
  values: { applied: boolean; paymentId: number | null; note: string },
) {
  await db.update(paymentEvents).set(values).where(eq(paymentEvents.id, id));
}

export async function eventsOf(db: Db, paymentIds: number[]): Promise<EventRow[]> {
  if (paymentIds.length === 0) return [];
  return db
    .select()
    .from(paymentEvents)
    .where(inArray(paymentEvents.paymentId, paymentIds))
    .orderBy(asc(paymentEvents.id));
}

/** Captured and refunded totals per order, in one query for a page of orders. */
export async function moneyByOrder(
  db: Db,
  orderIds: number[],
): Promise<Map<number, { captured: number; refunded: number }>> {
  const result = new Map<number, { captured: number; refunded: number }>();
  if (orderIds.length === 0) return result;
  const sums = {
    orderId: payments.orderId,
    captured: sql<number>`coalesce(sum(${payments.amountCaptured}), 0)::bigint`,
    refunded: sql<number>`coalesce(sum(${payments.amountRefunded}), 0)::bigint`,
  };
  // One order (a single read) is the hot path: a prepared query, as for its items and history.
  const rows =
    orderIds.length === 1
      ? await prepared(db, 'money_of_order', (d) =>
          d
            .select(sums)
            .from(payments)
            .where(eq(payments.orderId, sql.placeholder('id')))
            .groupBy(payments.orderId)
            .prepare('money_of_order'),
        ).execute({ id: orderIds[0] })
      : await db.select(sums).from(payments).where(inArray(payments.orderId, orderIds)).groupBy(payments.orderId);
  for (const row of rows) result.set(row.orderId, { captured: Number(row.captured), refunded: Number(row.refunded) });
  return result;
}
