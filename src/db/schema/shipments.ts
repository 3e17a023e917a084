import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, text, timestamp, unique } from 'drizzle-orm/pg-core';
import { timestamps } from './columns.js';
import { orderItems, orders } from './orders.js';

export const SHIPMENT_STATUSES = [
  'label_created',
  'in_transit',
  'out_for_delivery',
  'delivered',
  'failed_attempt',
  'exception',
  'returned_to_sender',
] as const;
export type ShipmentStatus = (typeof SHIPMENT_STATUSES)[number];

const STATUS_LIST = sql.raw(SHIPMENT_STATUSES.map((s) => `'${s}'`).join(', '));

/** One parcel of an order. The tracking number is unique per carrier; staff shortcuts ship without one. */
export const shipments = pgTable(
  'shipments',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    orderId: integer('order_id')
      .notNull()
      .references(() => orders.id, { onDelete: 'cascade' }),
    carrier: text('carrier').notNull(),
    trackingNumber: text('tracking_number'),
    trackingUrl: text('tracking_url'),
    // The status of the latest event by occurred_at, kept here so that lists need not recompute it.
    status: text('status').$type<ShipmentStatus>().notNull(),
    ...timestamps,
  },
  (t) => [
    check('shipments_status_known', sql`${t.status} IN (${STATUS_LIST})`),
    unique('shipments_carrier_tracking_number_key').on(t.carrier, t.trackingNumber),
    index('shipments_order_id_id_idx').on(t.orderId, t.id),
  ],
);

export const shipmentItems = pgTable(
  'shipment_items',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    shipmentId: integer('shipment_id')
      .notNull()
      .references(() => shipments.id, { onDelete: 'cascade' }),
    orderItemId: integer('order_item_id')
      .notNull()
      .references(() => orderItems.id, { onDelete: 'cascade' }),
    quantity: integer('quantity').notNull(),
  },
  (t) => [
    check('shipment_items_quantity_positive', sql`${t.quantity} > 0`),
    unique('shipment_items_shipment_item_key').on(t.shipmentId, t.orderItemId),
    index('shipment_items_order_item_id_idx').on(t.orderItemId),
  ],
);

/** Tracking events, from staff or a carrier's webhook; an event id is taken once per shipment. */
export const shipmentEvents = pgTable(
  'shipment_events',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    shipmentId: integer('shipment_id')
      .notNull()
      .references(() => shipments.id, { onDelete: 'cascade' }),
    eventId: text('event_id').notNull(),
    status: text('status').$type<ShipmentStatus>().notNull(),
    occurredAt: timestamp('occurred_at', { withTimezone: true, precision: 3, mode: 'date' }).notNull(),
    location: text('location'),
    description: text('description'),
    // "staff:<id>", "carrier:<carrier>" or "system", as in the order's history.
    source: text('source').notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true, precision: 3, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    check('shipment_events_status_known', sql`${t.status} IN (${STATUS_LIST})`),
    unique('shipment_events_shipment_event_key').on(t.shipmentId, t.eventId),
    index('shipment_events_shipment_id_occurred_at_idx').on(t.shipmentId, t.occurredAt),
  ],
);
