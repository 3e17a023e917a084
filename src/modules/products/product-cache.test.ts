import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../app.js';
import { createTestApp, usingPostgres } from '../../../test/app.js';
import { aCustomer, aProduct, expectStatus, type Product } from '../../../test/factories.js';
import { anonymous, send, staff, type Caller } from '../../../test/http.js';

const setStockBehindTheAppsBack = (app: App, id: number, stock: number) =>
  app.database.db.execute(sql`UPDATE products SET stock = ${stock} WHERE id = ${id}`);

const stockSeenBy = async (app: App, id: number) =>
  (await send(app, anonymous, 'GET', `/products/${id}`)).json<Product>().stock;

describe('product reads: ETag, Cache-Control and 304', () => {
  let app: App;
  let admin: Caller;
  beforeAll(async () => {
    app = await createTestApp();
    admin = await staff(app);
  });
  afterAll(async () => app.close());

  it('a product read carries a strong ETag and a revalidate-always Cache-Control, and If-None-Match gets 304', async () => {
    const product = await aProduct(app, admin);
    const first = await send(app, anonymous, 'GET', `/products/${product.id}`);
    expect(first.headers.etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(first.headers['cache-control']).toBe('public, max-age=0, must-revalidate');

    const again = await send(app, anonymous, 'GET', `/products/${product.id}`, undefined, {
      'if-none-match': String(first.headers.etag),
    });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');

    await expectStatus(app, admin, 200, 'PATCH', `/products/${product.id}`, { price: 999 });
    const changed = await send(app, anonymous, 'GET', `/products/${product.id}`, undefined, {
      'if-none-match': String(first.headers.etag),
    });
    expect(changed.statusCode).toBe(200);
    expect(changed.json<Product>().price).toBe(999);
    expect(changed.headers.etag).not.toBe(first.headers.etag);
  });

  it('a product list carries an ETag too and answers 304 while nothing changed', async () => {
    await aProduct(app, admin);
    const first = await send(app, anonymous, 'GET', '/products?limit=5');
    expect(first.headers['cache-control']).toBe('public, max-age=0, must-revalidate');
    const again = await send(app, anonymous, 'GET', '/products?limit=5', undefined, {
      'if-none-match': String(first.headers.etag),
    });
    expect(again.statusCode).toBe(304);
  });

  it('private answers are never stored by a cache', async () => {
    const customer = await aCustomer(app, admin);
    const response = await send(app, admin, 'GET', `/customers/${customer.id}`);
    expect(response.headers['cache-control']).toBe('no-store');
  });
});

describe('the in-process product cache', () => {
  let app: App;
  let admin: Caller;
  beforeAll(async () => {
    app = await createTestApp();
    admin = await staff(app);
  });
  afterAll(async () => app.close());

  it('serves repeated reads from memory (a change made behind the app is not seen)', async () => {
    const product = await aProduct(app, admin, { stock: 10 });
    expect(await stockSeenBy(app, product.id)).toBe(10);
    await setStockBehindTheAppsBack(app, product.id, 3);
    expect(await stockSeenBy(app, product.id)).toBe(10);
  });

  it('forgets a product at once when an order, a cancellation, an adjustment or a PATCH changes it', async () => {
    const product = await aProduct(app, admin, { stock: 10 });
    const customer = await aCustomer(app, admin);
    expect(await stockSeenBy(app, product.id)).toBe(10);

    const order = await expectStatus<{ id: number }>(app, admin, 201, 'POST', '/orders', {
      customer_id: customer.id,
      items: [{ product_id: product.id, quantity: 4 }],
    });
    expect(await stockSeenBy(app, product.id)).toBe(6);

    await expectStatus(app, admin, 200, 'POST', `/orders/${order.id}/cancel`);
    expect(await stockSeenBy(app, product.id)).toBe(10);

    await expectStatus(app, admin, 201, 'POST', `/products/${product.id}/inventory-adjustments`, {
      delta: -7,
      reason: 'stocktake',
    });
    expect(await stockSeenBy(app, product.id)).toBe(3);

    await expectStatus(app, admin, 200, 'PATCH', `/products/${product.id}`, { stock: 12, name: 'Renamed' });
    const seen = (await send(app, anonymous, 'GET', `/products/${product.id}`)).json<Product>();
    expect(seen).toMatchObject({ stock: 12, name: 'Renamed' });
  });

  it('forgets an order it refused: a short-stock order leaves the cached stock right', async () => {
    const product = await aProduct(app, admin, { stock: 2 });
    const customer = await aCustomer(app, admin);
    expect(await stockSeenBy(app, product.id)).toBe(2);
    await expectStatus(app, admin, 409, 'POST', '/orders', {
      customer_id: customer.id,
      items: [{ product_id: product.id, quantity: 3 }],
    });
    expect(await stockSeenBy(app, product.id)).toBe(2);
  });
});

describe.runIf(usingPostgres())('several processes', () => {
  it('without Redis the cache is off, so every process sees every write', async () => {
    const app = await createTestApp({ workers: 2, redisUrl: '' });
    try {
      const admin = await staff(app);
      const product = await aProduct(app, admin, { stock: 10 });
      expect(await stockSeenBy(app, product.id)).toBe(10);
      await setStockBehindTheAppsBack(app, product.id, 4);
      expect(await stockSeenBy(app, product.id)).toBe(4);
    } finally {
      await app.close();
    }
  });

  describe.runIf(Boolean(process.env.TEST_REDIS_URL))('with Redis', () => {
    it("a write in one process reaches the other's cache through Redis", async () => {
      const redisUrl = process.env.TEST_REDIS_URL!;
      const first = await createTestApp({ workers: 2, redisUrl });
      const url = first.config.databaseUrl;
      const second = await createTestApp({ workers: 2, redisUrl, databaseUrl: url }, { migrate: false });
      try {
        const admin = await staff(first);
        const product = await aProduct(first, admin, { stock: 10 });
        // Give both subscriptions time to come up before relying on them.
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(await stockSeenBy(second, product.id)).toBe(10);
        await setStockBehindTheAppsBack(second, product.id, 9);
        expect(await stockSeenBy(second, product.id)).toBe(10);

        await expectStatus(first, admin, 201, 'POST', `/products/${product.id}/inventory-adjustments`, {
          delta: -5,
          reason: 'moved to another store',
        });
        let seen = 0;
        for (let attempt = 0; attempt < 40 && seen !== 4; attempt++) {
          seen = await stockSeenBy(second, product.id);
          if (seen !== 4) await new Promise((resolve) => setTimeout(resolve, 50));
        }
        expect(seen).toBe(4);
      } finally {
        await second.close();
        await first.close();
      }
    });
  });
});
