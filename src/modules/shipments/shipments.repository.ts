import { and, asc, desc, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { shipmentEvents, shipmentItems, shipments, type ShipmentStatus } from '../../db/schema/index.js';

export type ShipmentRow = typeof shipments.$inferSelect;
export type ShipmentItemRow = typeof shipmentItems.$inferSelect;
export type ShipmentEventRow = typeof shipmentEvents.$inferSelect;

export async function insertShipment(db: Db, values: typeof shipments.$inferInsert): Promise<ShipmentRow> {
  const [row] = await db.insert(shipments).values(values).returning();
  return row!;
}

export async function insertItems(db: Db, values: (typeof shipmentItems.$inferInsert)[]): Promise<void> {
  if (values.length > 0) await db.insert(shipmentItems).values(values);
}

/** Undefined when the shipment already has an event of this id: the caller then changes nothing. */
export async function insertEvent(
  db: Db,
  values: typeof shipmentEvents.$inferInsert,
): Promise<ShipmentEventRow | undefined> {
  const [row] = await db.insert(shipmentEvents).values(values).onConflictDoNothing().returning();
  return row;
}

export async function findShipment(db: Db, id: number, forUpdate = false): Promise<ShipmentRow | undefined> {
  const query = db.select().from(shipments).where(eq(shipments.id, id));
  const [row] = forUpdate ? await query.for('update') : await query;
  return row;
}

export async function findByTracking(db: Db, carrier: string, trackingNumber: string) {
  const [row] = await db
    .select()
    .from(shipments)
    .where(and(eq(shipments.carrier, carrier), eq(shipments.trackingNumber, trackingNumber)));
  return row;
}

export function shipmentsOfOrder(db: Db, orderId: number): Promise<ShipmentRow[]> {
  return db.select().from(shipments).where(eq(shipments.orderId, orderId)).orderBy(asc(shipments.id));
}

export async function itemsOf(db: Db, shipmentIds: number[]): Promise<ShipmentItemRow[]> {
  if (shipmentIds.length === 0) return [];
  return db
    .select()
    .from(shipmentItems)
    .where(inArray(shipmentItems.shipmentId, shipmentIds))
    .orderBy(asc(shipmentItems.id));
}

/** Events oldest first by when they happened; ties keep the order they arrived in. */
export async function eventsOf(db: Db, shipmentIds: number[]): Promise<ShipmentEventRow[]> {
  if (shipmentIds.length === 0) return [];
  return db
    .select()
    .from(shipmentEvents)
    .where(inArray(shipmentEvents.shipmentId, shipmentIds))
    .orderBy(asc(shipmentEvents.occurredAt), asc(shipmentEvents.id));
}

export async function latestEvent(db: Db, shipmentId: number): Promise<ShipmentEventRow | undefined> {
  const [row] = await db
    .select()
    .from(shipmentEvents)
    .where(eq(shipmentEvents.shipmentId, shipmentId))
    .orderBy(desc(shipmentEvents.occurredAt), desc(shipmentEvents.id))
    .limit(1);
  return row;
}

export async function setStatus(db: Db, id: number, status: ShipmentStatus): Promise<ShipmentRow> {
  const [row] = await db
    .update(shipments)
    .set({ status, updatedAt: sql`now()` })
    .where(eq(shipments.id, id))
    .returning();
  return row!;
}

/** Units of each order item in any of the order's shipments. */
export async function shippedByItem(db: Db, orderId: number): Promise<Map<number, number>> {
  const rows = await db
    .select({ orderItemId: shipmentItems.orderItemId, quantity: sql<number>`sum(${shipmentItems.quantity})::int` })
    .from(shipmentItems)
    .innerJoin(shipments, eq(shipments.id, shipmentItems.shipmentId))
    .where(eq(shipments.orderId, orderId))
    .groupBy(shipmentItems.orderItemId);
  return new Map(rows.map((r) => [r.orderItemId, Number(r.quantity)]));
}
