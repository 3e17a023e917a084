import { deepStrictEqual, strictEqual } from 'node:assert/strict';
import pg from 'pg';
import type { Fixture } from './fixture.js';
import { firstPagePath } from './scenarios.js';

type Answer = { status: number; body: string; etag: string | null; link: string | null; location: string | null };

async function call(base: string, path: string, token?: string, body?: unknown): Promise<Answer> {
  const response = await fetch(base + path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return {
    status: response.status,
    body: await response.text(),
    etag: response.headers.get('etag'),
    link: response.headers.get('link'),
    location: response.headers.get('location'),
  };
}

/** Same status, the same bytes of JSON (names, order and values) and the same ETag and Link headers. */
async function same(app: string, floor: string, path: string, token?: string): Promise<Answer> {
  const [a, f] = [await call(app, path, token), await call(floor, path, token)];
  strictEqual(a.status, 200, `app ${path}: ${a.status} ${a.body}`);
  deepStrictEqual(JSON.parse(f.body), JSON.parse(a.body), `floor and app differ on ${path}`);
  deepStrictEqual({ ...f, body: '' }, { ...a, body: '' }, `floor and app headers differ on ${path}`);
  strictEqual(f.body, a.body, `floor and app order fields differently on ${path}`);
  return a;
}

async function movementsOf(dbUrl: string, orderId: number) {
  const client = new pg.Client({ connectionString: dbUrl });
  await client.connect();
  try {
    const { rows } = await client.query<Record<string, unknown>>(
      `SELECT product_id, quantity, type, reason, actor FROM inventory_movements WHERE order_id = $1 ORDER BY product_id`,
      [orderId],
    );
    const drift = await client.query(
      `SELECT p.id FROM products p JOIN inventory_movements m ON m.product_id = p.id
       WHERE p.id IN (SELECT product_id FROM order_items WHERE order_id = $1)
       GROUP BY p.id, p.stock HAVING p.stock <> sum(m.quantity)`,
      [orderId],
    );
    strictEqual(drift.rowCount, 0, `stock and ledger disagree for the products of order ${orderId}`);
    return rows;
  } finally {
    await client.end();
  }
}

/**
 * Before any timing: the floor must answer what the app answers, or the comparison means nothing. Reads are
 * compared byte for byte; an order placed on each server is read back from the other, and both must have
 * written the same ledger rows.
 */
export async function selfCheck(app: string, floor: string, fixture: Fixture, dbUrl: string): Promise<void> {
  const customer = fixture.customers[0]!;
  await same(app, floor, `/products/${fixture.productIds[0]}`);
  await same(app, floor, `/customers/${customer.id}`, customer.token);
  // Several orders, so that paid, shipped and cancelled ones (with payments or without) are all likely compared.
  for (const { id, token } of fixture.orders.slice(0, 8)) await same(app, floor, `/orders/${id}`, token);
  let page = await same(app, floor, firstPagePath(fixture));
  for (let i = 0; i < 2 && page.link; i++) page = await same(app, floor, /^<([^>]+)>/.exec(page.link)![1]!);

  const [p1, p2] = fixture.orderableIds;
  const body = {
    items: [
      { product_id: p2, quantity: 2 },
      { product_id: p1, quantity: 1 },
    ],
    shipping_contact_id: customer.contactId,
  };
  const ledgers = [];
  for (const [writer, reader] of [
    [app, floor],
    [floor, app],
  ] as const) {
    const created = await call(writer, '/orders', customer.token, body);
    strictEqual(created.status, 201, `POST /orders: ${created.status} ${created.body}`);
    const id = (JSON.parse(created.body) as { id: number }).id;
    strictEqual(created.location, `/orders/${id}`);
    const read = await call(reader, `/orders/${id}`, customer.token);
    strictEqual(read.body, created.body, `an order written by one server reads back differently from the other`);
    strictEqual(read.etag, created.etag);
    ledgers.push(await movementsOf(dbUrl, id));
  }
  deepStrictEqual(ledgers[1], ledgers[0], 'app and floor write different ledger rows for the same order');
}
