import { sql } from 'drizzle-orm';
import { bigint, check, index, integer, pgTable, text, unique } from 'drizzle-orm/pg-core';
import { timestamps } from './columns.js';
import { orderItems, orders } from './orders.js';

export const RETURN_STATUSES = ['requested', 'received', 'rejected'] as const;
export type ReturnStatus = (typeof RETURN_STATUSES)[number];

export const returns = pgTable(
  'returns',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    orderId: integer('order_id')
      .notNull()
      .references(() => orders.id, { onDelete: 'cascade' }),
    status: text('status').$type<ReturnStatus>().notNull().default('requested'),
    reason: text('reason').notNull(),
    refundAmount: bigint('refund_amount', { mode: 'number' }).notNull(),
    requestedBy: text('requested_by').notNull(),
    ...timestamps,
  },
  (t) => [
    check('returns_status_known', sql`${t.status} IN ('requested', 'received', 'rejected')`),
    check('returns_refund_amount_non_negative', sql`${t.refundAmount} >= 0`),
    index('returns_order_id_id_idx').on(t.orderId, t.id),
  ],
);

export const returnItems = pgTable(
  'return_items',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    returnId: integer('return_id')
      .notNull()
      .references(() => returns.id, { onDelete: 'cascade' }),
    orderItemId: integer('order_item_id')
      .notNull()
      .references(() => orderItems.id, { onDelete: 'cascade' }),
    quantity: integer('quantity').notNull(),
  },
  (t) => [
    check('return_items_quantity_positive', sql`${t.quantity} > 0`),
    unique('return_items_return_item_key').on(t.returnId, t.orderItemId),
    index('return_items_order_item_id_idx').on(t.orderItemId),
  ],
);
