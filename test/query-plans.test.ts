import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import { createTestApp } from './app.js';
import { aContact, aCustomer, expectStatus } from './factories.js';
import { send, staff, type Caller } from './http.js';
import { seedVolume } from './seed-sql.js';

type Captured = { query: string; params: unknown[] };
type PlanNode = { 'Node Type': string; 'Relation Name'?: string; Plans?: PlanNode[] };

const BIG_TABLES = new Set(['products', 'customers', 'orders']);

/**
 * Scans of a big table that read it whole: a sequential scan, or (when plain index walks were disabled) an index
 * walk the planner still had to fall back to because no index serves the filter.
 */
function fullScansOf(node: PlanNode, selective: boolean, found: string[] = []): string[] {
  const table = node['Relation Name'] ?? '';
  const walk = selective && (node['Node Type'] === 'Index Scan' || node['Node Type'] === 'Index Only Scan');
  if (BIG_TABLES.has(table) && (node['Node Type'] === 'Seq Scan' || walk))
    found.push(`${node['Node Type']} on ${table}`);
  for (const child of node.Plans ?? []) fullScansOf(child, selective, found);
  return found;
}

/**
 * Every documented list and filter runs through the real routes; each SELECT they send is EXPLAINed with
 * sequential scans disabled, so any scan of products, customers or orders that remains has no index to use.
 * For a selective filter, plain index walks are disabled too: what remains must find its rows through a
 * bitmap on an index that serves the filter itself (on a small test table the planner would rather walk the
 * primary key, which at a million rows is a full scan in disguise).
 */
describe('query plans of lists and filters', () => {
  let app: App;
  let admin: Caller;
  let captured: Captured[] = [];
  let customerId = 0;
  let contactId = 0;

  beforeAll(async () => {
    app = await createTestApp({}, { onQuery: (query, params) => captured.push({ query, params }) });
    admin = await staff(app);
    await seedVolume(app, { products: 3000, customers: 300, orders: 900 });
    const contact = await aContact(app, admin);
    contactId = contact.id;
    customerId = (await aCustomer(app, admin, { contact_id: [contactId] })).id;
  });
  afterAll(async () => app.close());

  async function explain(query: string, params: unknown[], selective: boolean): Promise<PlanNode> {
    const text = `EXPLAIN (FORMAT JSON) ${query}`;
    const settings = selective ? ['enable_seqscan', 'enable_indexscan', 'enable_indexonlyscan'] : ['enable_seqscan'];
    const database = app.database;
    const run =
      database.kind === 'pglite'
        ? (q: string, p: unknown[] = []) => database.client.query<Record<string, unknown>>(q, p)
        : (q: string, p: unknown[] = []) => database.pool.query<Record<string, unknown>>(q, p);
    if (database.kind === 'postgres') {
      // Settings are per connection: run the three statements on one pooled client.
      const client = await database.pool.connect();
      try {
        for (const setting of settings) await client.query(`SET ${setting} = off`);
        const result = await client.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(text, params);
        await client.query('RESET ALL');
        return result.rows[0]!['QUERY PLAN'][0]!.Plan;
      } finally {
        client.release();
      }
    }
    for (const setting of settings) await run(`SET ${setting} = off`);
    const result = await run(text, params);
    await run('RESET ALL');
    return (result.rows[0]!['QUERY PLAN'] as { Plan: PlanNode }[])[0]!.Plan;
  }

  async function plansOf(url: string, selective = false): Promise<string[]> {
    captured = [];
    const response = await send(app, admin, 'GET', url);
    expect(response.statusCode, `${url}: ${response.body}`).toBe(200);
    const selects = captured.filter((c) => /^\s*select/i.test(c.query));
    const problems: string[] = [];
    for (const { query, params } of selects) {
      for (const scan of fullScansOf(await explain(query, params, selective), selective)) {
        problems.push(`${scan}: ${query}`);
      }
    }
    return problems;
  }

  // Lists whose order alone bounds the work (a LIMIT over an index in that order).
  const LISTS = [
    '/products',
    '/products?limit=20&sort=price',
    '/products?sort=name:desc',
    '/products?sort=created_at&order=desc',
    '/products?in_stock=true',
    '/products?in_stock=false&include_archived=true',
    '/customers',
    '/orders',
    '/contacts',
  ];
  // Filters that pick few rows: they must reach them through an index condition.
  const SELECTIVE = [
    '/products?sort=-price&min_price=100&max_price=900',
    '/products?q=product 2999',
    '/products?q=bulk-1234',
    '/orders?status=paid',
    '/inventory/low-stock?threshold=3',
  ];

  it.each(LISTS)('GET %s scans no big table sequentially', async (url) => {
    expect(await plansOf(url)).toEqual([]);
  });

  it.each(SELECTIVE)('GET %s finds its rows through an index on the filter', async (url) => {
    expect(await plansOf(url, true)).toEqual([]);
  });

  it('the next page of a sorted, filtered list scans no big table sequentially', async () => {
    const first = await send(app, admin, 'GET', '/products?limit=5&sort=price&min_price=10');
    const next = /<([^>]+)>; rel="next"/.exec(String(first.headers.link))?.[1];
    expect(next).toBeDefined();
    expect(await plansOf(next!)).toEqual([]);
  });

  it("a customer's orders, contacts and the orders filter by customer scan no big table sequentially", async () => {
    const product = await expectStatus<{ id: number }>(app, admin, 201, 'POST', '/products', {
      sku: 'PLAN-1',
      name: 'Plan',
      price: 100,
      stock: 5,
    });
    await expectStatus(app, admin, 201, 'POST', '/orders', {
      customer_id: customerId,
      items: [{ product_id: product.id, quantity: 1 }],
    });
    for (const url of [
      `/customers/${customerId}/orders`,
      `/orders?customer_id=${customerId}`,
      `/customers/${customerId}/contacts`,
      `/products/${product.id}/inventory-movements`,
    ]) {
      expect(await plansOf(url, true), url).toEqual([]);
    }
  });

  it('logging in by username or email scans no big table sequentially', async () => {
    captured = [];
    await send(app, admin, 'POST', '/auth/login', { username: 'bulk7', password: 'wrong password' });
    await send(app, admin, 'POST', '/auth/login', { email_id: 'bulk8@example.com', password: 'wrong password' });
    const selects = captured.filter((c) => /^\s*select/i.test(c.query));
    expect(selects.length).toBeGreaterThan(0);
    for (const { query, params } of selects) {
      expect(fullScansOf(await explain(query, params, true), true), query).toEqual([]);
    }
  });
});
