import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import { createTestApp } from './app.js';
import { send, staff, type Caller } from './http.js';
import { seedVolume } from './seed-sql.js';

/** No N+1: a page costs the same number of queries whatever its size. */
describe('queries per request', () => {
  let app: App;
  let admin: Caller;
  let queries = 0;

  beforeAll(async () => {
    app = await createTestApp({}, { onQuery: () => queries++ });
    admin = await staff(app);
    await seedVolume(app, { products: 200, customers: 60, orders: 120 });
    // Several contacts per customer and several items per order, so per-row follow-ups would show.
    const { db } = app.database;
    await db.execute(
      `INSERT INTO contacts (address_line1, city) SELECT 'Street ' || g, 'Town' FROM generate_series(1, 120) g`,
    );
    await db.execute(`INSERT INTO customer_contacts (customer_id, contact_id)
      SELECT c.id, k.id FROM customers c JOIN contacts k ON k.id % 60 = c.id % 60`);
    await db.execute(`INSERT INTO order_items (order_id, product_id, quantity, unit_price, line_total)
      SELECT o.id, p.id, 2, 500, 1000 FROM orders o JOIN products p ON p.id IN (o.id % 200 + 2, o.id % 200 + 3)
      WHERE o.id % 200 + 3 <= 200`);
  });
  afterAll(async () => app.close());

  async function countFor(url: string): Promise<{ count: number; body: unknown[] | Record<string, unknown> }> {
    queries = 0;
    const response = await send(app, admin, 'GET', url);
    expect(response.statusCode, response.body).toBe(200);
    return { count: queries, body: response.json() };
  }

  it.each(['/customers', '/orders', '/contacts', '/products'])(
    'a page of %s costs the same number of queries for 2 rows as for 100',
    async (path) => {
      const small = await countFor(`${path}?limit=2`);
      const large = await countFor(`${path}?limit=100`);
      expect((large.body as unknown[]).length).toBeGreaterThan(50);
      expect(large.count).toBe(small.count);
    },
  );

  it('an order with its items and history is read in a fixed, small number of queries', async () => {
    const { body: page } = await countFor('/orders?limit=100');
    const withItems = (page as { id: number; items: unknown[] }[]).filter((o) => o.items.length >= 2);
    expect(withItems.length).toBeGreaterThan(2);
    const counts = [];
    for (const order of withItems.slice(0, 3)) counts.push((await countFor(`/orders/${order.id}`)).count);
    expect(new Set(counts).size).toBe(1);
    // The token check, the order, its items, its history, its payments' totals.
    expect(counts[0]).toBeLessThanOrEqual(5);
  });

  it('customers in a page carry their contact ids without a query per customer', async () => {
    const { body } = await countFor('/customers?limit=100');
    const linked = (body as { contact_id: number[] }[]).filter((c) => c.contact_id.length >= 2);
    expect(linked.length).toBeGreaterThan(10);
  });
});
