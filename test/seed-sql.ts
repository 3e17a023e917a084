import { sql } from 'drizzle-orm';
import type { App } from '../src/app.js';

/**
 * Bulk rows straight in SQL, for tests that need volume (query plans, query counts) rather than realistic
 * history. They keep the schema's rules: login names for customers, an initial movement per product.
 */
export async function seedVolume(app: App, counts: { products: number; customers: number; orders: number }) {
  const { db } = app.database;
  await db.execute(sql`
    INSERT INTO products (sku, name, description, price, currency, stock, active)
    SELECT 'BULK-' || g, 'Bulk product ' || g, NULL, (g * 37) % 10000, 'USD', g % 50, g % 10 <> 0
    FROM generate_series(1, ${counts.products}) AS g`);
  await db.execute(sql`
    INSERT INTO inventory_movements (product_id, quantity, type, reason, actor)
    SELECT id, stock, 'initial', NULL, 'system' FROM products WHERE stock <> 0 AND sku LIKE 'BULK-%'`);
  await db.execute(sql`
    INSERT INTO customers (username, password_hash, email_id, first_name, last_name)
    SELECT 'bulk' || g, 'scrypt$16384$8$1$c2FsdA==$aGFzaA==', 'bulk' || g || '@example.com', 'Bulk', 'Customer ' || g
    FROM generate_series(1, ${counts.customers}) AS g`);
  await db.execute(sql`
    INSERT INTO login_names (username_lower, email_lower, customer_id)
    SELECT lower(username), lower(email_id), id FROM customers WHERE username LIKE 'bulk%'`);
  await db.execute(sql`
    -- Mostly delivered, as in a store that has run a while; 'paid' is the rare, selective status.
    INSERT INTO orders (customer_id, status, subtotal, total, currency)
    SELECT c.id, CASE WHEN g % 100 = 0 THEN 'paid' WHEN g % 7 = 0 THEN 'pending' ELSE 'delivered' END, 1000, 1000, 'USD'
    FROM generate_series(1, ${counts.orders}) AS g
    JOIN customers c ON c.username = 'bulk' || (1 + g % ${counts.customers})`);
  await db.execute(sql`
    INSERT INTO order_items (order_id, product_id, quantity, unit_price, line_total)
    SELECT o.id, p.id, 1, 1000, 1000
    FROM orders o JOIN products p ON p.sku = 'BULK-' || (1 + o.id % ${counts.products})`);
  await db.execute(sql`
    INSERT INTO order_status_history (order_id, status, by) SELECT id, status, 'system' FROM orders`);
  await db.execute(sql`ANALYZE`);
}
