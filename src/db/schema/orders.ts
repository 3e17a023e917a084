import { sql } from 'drizzle-orm';
import { bigint, check, index, integer, jsonb, pgTable, text, timestamp, unique } from 'drizzle-orm/pg-core';
import { timestamps } from './columns.js';
import { contacts } from './contacts.js';
import { customers } from './customers.js';
import { products } from './products.js';

export type ShippingAddress = {
  address_line1: string;
  address_line2: string | null;
  city: string;
  state: string | null;
  postal_code: string | null;
  country: string | null;
  phone_number: string | null;
};

export const ORDER_STATUSES = ['pending', 'paid', 'shipped', 'delivered', 'cancelled'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const FULFILLMENT_STATUSES = ['unfulfilled', 'partially_fulfilled', 'fulfilled'] as const;
export type FulfillmentStatus = (typeof FULFILLMENT_STATUSES)[number];

export const orders = pgTable(
  'orders',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    customerId: integer('customer_id')
      .notNull()
      .references(() => customers.id, { onDelete: 'restrict' }),
    status: text('status').$type<OrderStatus>().notNull().default('pending'),
    // The contact may be deleted later; the order keeps its own copy of the address.
    shippingContactId: integer('shipping_contact_id').references(() => contacts.id, { onDelete: 'set null' }),
    shippingAddress: jsonb('shipping_address').$type<ShippingAddress>(),
    subtotal: bigint('subtotal', { mode: 'number' }).notNull(),
    total: bigint('total', { mode: 'number' }).notNull(),
    currency: text('currency').notNull(),
    // Kept on the order by the shipments module (through the orders service), so reading an order costs no query.
    fulfillmentStatus: text('fulfillment_status').$type<FulfillmentStatus>().notNull().default('unfulfilled'),
    deliveredAt: timestamp('delivered_at', { withTimezone: true, precision: 3, mode: 'date' }),
    ...timestamps,
  },
  (t) => [
    check(
      'orders_fulfillment_status_known',
      sql`${t.fulfillmentStatus} IN ('unfulfilled', 'partially_fulfilled', 'fulfilled')`,
    ),
    check('orders_status_known', sql`${t.status} IN ('pending', 'paid', 'shipped', 'delivered', 'cancelled')`),
    check('orders_amounts_non_negative', sql`${t.subtotal} >= 0 AND ${t.total} >= 0`),
    index('orders_customer_id_id_idx').on(t.customerId, t.id),
    index('orders_status_id_idx').on(t.status, t.id),
    index('orders_shipping_contact_id_idx').on(t.shippingContactId),
  ],
);

export const orderItems = pgTable(
  'order_items',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    orderId: integer('order_id')
      .notNull()
      .references(() => orders.id, { onDelete: 'cascade' }),
    productId: integer('product_id')
      .notNull()
      .references(() => products.id, { onDelete: 'restrict' }),
    quantity: integer('quantity').notNull(),
    unitPrice: integer('unit_price').notNull(),
    lineTotal: bigint('line_total', { mode: 'number' }).notNull(),
  },
  (t) => [
    check('order_items_quantity_range', sql`${t.quantity} BETWEEN 1 AND 1000`),
    check('order_items_amounts', sql`${t.unitPrice} >= 0 AND ${t.lineTotal} = ${t.unitPrice}::bigint * ${t.quantity}`),
    unique('order_items_order_product_key').on(t.orderId, t.productId),
    index('order_items_product_id_idx').on(t.productId),
  ],
);

/** Every status an order has been in, when, and who moved it there ("customer:7", "staff:1", "system"). */
export const orderStatusHistory = pgTable(
  'order_status_history',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    orderId: integer('order_id')
      .notNull()
      .references(() => orders.id, { onDelete: 'cascade' }),
    status: text('status').$type<OrderStatus>().notNull(),
    by: text('by').notNull(),
    at: timestamps.createdAt,
  },
  (t) => [
    check(
      'order_status_history_status_known',
      sql`${t.status} IN ('pending', 'paid', 'shipped', 'delivered', 'cancelled')`,
    ),
    index('order_status_history_order_id_id_idx').on(t.orderId, t.id),
  ],
);
