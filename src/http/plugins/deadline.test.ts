import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../app.js';
import { createTestApp, usingPostgres } from '../../../test/app.js';
import { aProduct, aSignedInCustomer, expectStatus, type Product } from '../../../test/factories.js';
import { send, staff, type Caller } from '../../../test/http.js';

const TIMEOUT_MS = 1000;

/**
 * DB_TIMEOUT_MS when the database is up but stuck: another session holds the product's row lock, so the order's
 * stock update waits. The client must be answered 503 in time, and the order must not commit once the lock goes.
 * Needs a second session beside the app's, so PostgreSQL only (embedded PGlite has one connection).
 */
describe.runIf(usingPostgres())('DB_TIMEOUT_MS on a stuck database', () => {
  let app: App;
  let customer: Caller;
  let product: Product;
  let blocker: pg.Client;

  beforeAll(async () => {
    // No statement_timeout, so that only the request deadline can end the wait.
    app = await createTestApp({ dbTimeoutMs: TIMEOUT_MS, dbStatementTimeoutMs: 0 });
    customer = await aSignedInCustomer(app);
    product = await aProduct(app, await staff(app), { stock: 5 });
    blocker = new pg.Client({ connectionString: (app.database as { url: string }).url });
    await blocker.connect();
  });
  afterAll(async () => {
    await blocker.end();
    await app.close();
  });

  it('answers 503 DATABASE_TIMEOUT with Retry-After in time, and the order never commits behind it', async () => {
    await blocker.query('BEGIN');
    await blocker.query('SELECT stock FROM products WHERE id = $1 FOR UPDATE', [product.id]);

    const started = Date.now();
    const order = { items: [{ product_id: product.id, quantity: 2 }] };
    const answer = await send(app, customer, 'POST', '/orders', order, { 'idempotency-key': 'stuck-1' });
    const waited = Date.now() - started;

    expect(answer.statusCode).toBe(503);
    expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(answer.headers['retry-after']).toBe('2');
    expect(answer.json()).toMatchObject({ status: 503, code: 'DATABASE_TIMEOUT' });
    expect(waited).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(waited).toBeLessThan(TIMEOUT_MS + 1500);

    // The lock goes; the abandoned transaction gets its row, then rolls back instead of committing.
    await blocker.query('ROLLBACK');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const { rows } = await blocker.query<{ orders: number; stock: number }>(
      `SELECT (SELECT count(*)::int FROM orders) AS orders, (SELECT stock FROM products WHERE id = $1) AS stock`,
      [product.id],
    );
    expect(rows[0]).toEqual({ orders: 0, stock: 5 });

    // The client's retry with the same key makes the order now, once.
    const retry = await send(app, customer, 'POST', '/orders', order, { 'idempotency-key': 'stuck-1' });
    expect(retry.statusCode).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    expect((await expectStatus<Product>(app, customer, 200, 'GET', `/products/${product.id}`)).stock).toBe(3);
  });
});
