import { sql } from 'drizzle-orm';
import { boolean, check, index, integer, pgTable, text } from 'drizzle-orm/pg-core';
import { timestamps } from './columns.js';

export const products = pgTable(
  'products',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    sku: text('sku').notNull().unique('products_sku_key'),
    name: text('name').notNull(),
    description: text('description'),
    price: integer('price').notNull(),
    currency: text('currency').notNull(),
    stock: integer('stock').notNull().default(0),
    active: boolean('active').notNull().default(true),
    ...timestamps,
  },
  (t) => [
    check('products_price_non_negative', sql`${t.price} >= 0`),
    check('products_stock_non_negative', sql`${t.stock} >= 0`),
    check('products_currency_iso', sql`${t.currency} ~ '^[A-Z]{3}$'`),
    index('products_price_id_idx').on(t.price, t.id),
    index('products_name_id_idx').on(t.name, t.id),
    index('products_created_at_id_idx').on(t.createdAt, t.id),
    index('products_stock_id_idx').on(t.stock, t.id),
    // Trigram indexes serve the `q` substring search (ILIKE '%…%') without scanning the table.
    index('products_name_trgm_idx').using('gin', sql`${t.name} gin_trgm_ops`),
    index('products_sku_trgm_idx').using('gin', sql`${t.sku} gin_trgm_ops`),
  ],
);
