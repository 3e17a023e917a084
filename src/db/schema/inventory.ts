import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, text } from 'drizzle-orm/pg-core';
import { timestamps } from './columns.js';
import { orders } from './orders.js';
import { products } from './products.js';

export const MOVEMENT_TYPES = ['initial', 'order', 'cancellation', 'adjustment', 'return'] as const;
export type MovementType = (typeof MOVEMENT_TYPES)[number];

/** The stock ledger: every change of a product's stock is one row here, written in the same transaction. */
export const inventoryMovements = pgTable(
  'inventory_movements',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    productId: integer('product_id')
      .notNull()
      .references(() => products.id, { onDelete: 'cascade' }),
    quantity: integer('quantity').notNull(),
    type: text('type').$type<MovementType>().notNull(),
    reason: text('reason'),
    orderId: integer('order_id').references(() => orders.id, { onDelete: 'set null' }),
    actor: text('actor').notNull(),
    createdAt: timestamps.createdAt,
  },
  (t) => [
    check(
      'inventory_movements_type_known',
      sql`${t.type} IN ('initial', 'order', 'cancellation', 'adjustment', 'return')`,
    ),
    check('inventory_movements_quantity_nonzero', sql`${t.quantity} <> 0`),
    index('inventory_movements_product_id_id_idx').on(t.productId, t.id),
    index('inventory_movements_order_id_idx').on(t.orderId),
  ],
);
