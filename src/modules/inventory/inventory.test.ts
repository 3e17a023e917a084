import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../app.js';
import { createTestApp } from '../../../test/app.js';
import {
  aCustomer,
  anOrder,
  aProduct,
  aSignedInCustomer,
  expectStatus,
  type Product,
} from '../../../test/factories.js';
import { anonymous, send, staff, TEST_ADMIN, type Caller } from '../../../test/http.js';

type Movement = {
  id: number;
  product_id: number;
  quantity: number;
  type: 'initial' | 'order' | 'cancellation' | 'adjustment';
  reason: string | null;
  order_id: number | null;
  actor: string;
  created_at: string;
};

const MISSING_ID = 2_147_483_647;
const MOVEMENT_KEYS = ['actor', 'created_at', 'id', 'order_id', 'product_id', 'quantity', 'reason', 'type'];

/** Asserts a problem+json answer with the given status and returns its body. */
function problem(response: LightMyRequestResponse, status: number) {
  expect(response.statusCode, response.body).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = response.json<{ status: number; code: string; errors?: { field: string; message: string }[] }>();
  expect(body.status).toBe(status);
  return body;
}

const fieldsOf = (response: LightMyRequestResponse, status: number) =>
  (problem(response, status).errors ?? []).map((e) => e.field);

/** Every item a list URL leads to, following the Link header, one array per page. */
async function allPages<T>(app: App, caller: Caller, url: string): Promise<T[][]> {
  const pages: T[][] = [];
  let next: string | undefined = url;
  while (next) {
    const response = await send(app, caller, 'GET', next);
    expect(response.statusCode, response.body).toBe(200);
    pages.push(response.json<T[]>());
    const link = response.headers.link as string | undefined;
    next = link ? /^<([^>]+)>; rel="next"$/.exec(link)?.[1] : undefined;
    if (link) expect(next, link).toBeDefined();
    expect(pages.length).toBeLessThan(100);
  }
  return pages;
}

describe('inventory ledger', () => {
  let app: App;
  let caller: Caller;
  let staffLabel: string;
  beforeAll(async () => {
    app = await createTestApp();
    caller = await staff(app);
    const members = await expectStatus<{ id: number; username: string }[]>(app, caller, 200, 'GET', '/staff?limit=200');
    staffLabel = `staff:${members.find((m) => m.username === TEST_ADMIN.username)!.id}`;
  });
  afterAll(async () => app.close());

  const movementsOf = async (product: Product) =>
    (await allPages<Movement>(app, caller, `/products/${product.id}/inventory-movements?limit=200`)).flat();
  const stockOf = async (product: Product) =>
    (await expectStatus<Product>(app, caller, 200, 'GET', `/products/${product.id}`)).stock;
  const adjust = (product: Product, body: unknown, who: Caller = caller) =>
    send(app, who, 'POST', `/products/${product.id}/inventory-adjustments`, body);

  /** The invariant the ledger exists for: a product's stock is the sum of its movements. */
  async function expectStockIsLedgerSum(product: Product) {
    const movements = await movementsOf(product);
    const stock = await stockOf(product);
    expect(movements.reduce((sum, m) => sum + m.quantity, 0)).toBe(stock);
    return { movements, stock };
  }

  describe('movements', () => {
    it('records a product created with stock as one initial movement of that quantity', async () => {
      const product = await aProduct(app, caller, { stock: 12 });
      const movements = await movementsOf(product);
      expect(movements).toEqual([
        {
          id: expect.any(Number),
          product_id: product.id,
          quantity: 12,
          type: 'initial',
          reason: null,
          order_id: null,
          actor: staffLabel,
          created_at: expect.any(String),
        },
      ]);
      expect(Object.keys(movements[0]!).sort()).toEqual(MOVEMENT_KEYS);
      expect(new Date(movements[0]!.created_at).toISOString()).toBe(movements[0]!.created_at);
    });

    it('records no movement for a product created without stock', async () => {
      const product = await aProduct(app, caller, { stock: 0 });
      expect(await movementsOf(product)).toEqual([]);
      await expectStockIsLedgerSum(product);
    });

    it('keeps stock equal to the sum of movements through create, order, cancel, adjust and PATCH stock', async () => {
      const shopper = await aSignedInCustomer(app);
      const shopperLabel = `customer:${shopper.customer.id}`;
      const product = await aProduct(app, caller, { stock: 20 });
      const other = await aProduct(app, caller, { stock: 5 });
      await expectStockIsLedgerSum(product);

      const first = await anOrder(app, shopper, {
        items: [
          { product_id: product.id, quantity: 3 },
          { product_id: other.id, quantity: 1 },
        ],
      });
      expect(await expectStockIsLedgerSum(product)).toMatchObject({ stock: 17 });
      const customer = await aCustomer(app, caller);
      const second = await anOrder(app, caller, {
        customer_id: customer.id,
        items: [{ product_id: product.id, quantity: 4 }],
      });
      expect(await expectStockIsLedgerSum(product)).toMatchObject({ stock: 13 });

      await expectStatus(app, shopper, 200, 'POST', `/orders/${first.id}/cancel`);
      expect(await expectStockIsLedgerSum(product)).toMatchObject({ stock: 16 });

      const added = await adjust(product, { delta: 9, reason: 'delivery from supplier' });
      expect(added.statusCode, added.body).toBe(201);
      const removed = await adjust(product, { delta: -5, reason: 'water damage' });
      expect(removed.statusCode, removed.body).toBe(201);
      expect(await expectStockIsLedgerSum(product)).toMatchObject({ stock: 20 });

      await expectStatus(app, caller, 200, 'PATCH', `/products/${product.id}`, { stock: 7 });
      expect(await expectStockIsLedgerSum(product)).toMatchObject({ stock: 7 });
      await expectStatus(app, caller, 200, 'PATCH', `/products/${product.id}`, { stock: 30 });
      expect(await expectStockIsLedgerSum(product)).toMatchObject({ stock: 30 });

      // A PATCH that leaves stock as it is, or does not name it, writes nothing.
      const count = (await movementsOf(product)).length;
      await expectStatus(app, caller, 200, 'PATCH', `/products/${product.id}`, { stock: 30 });
      await expectStatus(app, caller, 200, 'PATCH', `/products/${product.id}`, { name: 'Renamed mug', price: 99 });
      expect(await movementsOf(product)).toHaveLength(count);

      await expectStatus(app, caller, 200, 'PATCH', `/orders/${second.id}`, { status: 'paid' });
      await expectStatus(app, caller, 200, 'POST', `/orders/${second.id}/cancel`);
      const { movements, stock } = await expectStockIsLedgerSum(product);
      expect(stock).toBe(34);

      const shape = movements.map(({ quantity, type, order_id, actor, reason }) => ({
        quantity,
        type,
        order_id,
        actor,
        reason,
      }));
      expect(shape).toEqual([
        { quantity: 20, type: 'initial', order_id: null, actor: staffLabel, reason: null },
        { quantity: -3, type: 'order', order_id: first.id, actor: shopperLabel, reason: null },
        { quantity: -4, type: 'order', order_id: second.id, actor: staffLabel, reason: null },
        { quantity: 3, type: 'cancellation', order_id: first.id, actor: shopperLabel, reason: null },
        { quantity: 9, type: 'adjustment', order_id: null, actor: staffLabel, reason: 'delivery from supplier' },
        { quantity: -5, type: 'adjustment', order_id: null, actor: staffLabel, reason: 'water damage' },
        { quantity: -13, type: 'adjustment', order_id: null, actor: staffLabel, reason: expect.any(String) },
        { quantity: 23, type: 'adjustment', order_id: null, actor: staffLabel, reason: expect.any(String) },
        { quantity: 4, type: 'cancellation', order_id: second.id, actor: staffLabel, reason: null },
      ]);
      expect(movements.every((m) => m.product_id === product.id)).toBe(true);
      const ids = movements.map((m) => m.id);
      expect([...ids].sort((a, b) => a - b)).toEqual(ids);
      for (const m of movements) expect(Object.keys(m).sort()).toEqual(MOVEMENT_KEYS);

      await expectStockIsLedgerSum(other);
    });

    it('writes nothing for a refused order', async () => {
      const product = await aProduct(app, caller, { stock: 2 });
      const customer = await aCustomer(app, caller);
      const response = await send(app, caller, 'POST', '/orders', {
        customer_id: customer.id,
        items: [{ product_id: product.id, quantity: 3 }],
      });
      problem(response, 409);
      expect(await movementsOf(product)).toHaveLength(1);
      await expectStockIsLedgerSum(product);
    });

    it('pages movements oldest first through the Link header, keeping limit', async () => {
      const product = await aProduct(app, caller, { stock: 1 });
      for (let i = 1; i <= 7; i++) {
        expect((await adjust(product, { delta: i, reason: `batch ${i}` })).statusCode).toBe(201);
      }
      const first = await send(app, caller, 'GET', `/products/${product.id}/inventory-movements?limit=3`);
      expect(first.statusCode, first.body).toBe(200);
      expect(String(first.headers.link)).toMatch(
        new RegExp(`^</products/${product.id}/inventory-movements\\?[^>]*cursor=[^>]+>; rel="next"$`),
      );
      expect(String(first.headers.link)).toContain('limit=3');

      const pages = await allPages<Movement>(app, caller, `/products/${product.id}/inventory-movements?limit=3`);
      expect(pages.map((p) => p.length)).toEqual([3, 3, 2]);
      const paged = pages.flat();
      expect(paged).toEqual(await movementsOf(product));
      expect(paged.map((m) => m.quantity)).toEqual([1, 1, 2, 3, 4, 5, 6, 7]);
      expect(new Set(paged.map((m) => m.id)).size).toBe(8);

      const last = await send(app, caller, 'GET', `/products/${product.id}/inventory-movements?limit=8`);
      expect(last.headers.link).toBeUndefined();
    });

    it('answers 400 for a bad limit or cursor, 404 for an unknown product, 403 to a customer, 401 anonymously', async () => {
      const product = await aProduct(app, caller, { stock: 3 });
      const url = `/products/${product.id}/inventory-movements`;
      expect(fieldsOf(await send(app, caller, 'GET', `${url}?limit=0`), 400)).toContain('limit');
      expect(fieldsOf(await send(app, caller, 'GET', `${url}?limit=201`), 400)).toContain('limit');
      expect(fieldsOf(await send(app, caller, 'GET', `${url}?cursor=garbage`), 400)).toContain('cursor');
      problem(await send(app, caller, 'GET', `/products/${MISSING_ID}/inventory-movements`), 404);
      problem(await send(app, await aSignedInCustomer(app), 'GET', url), 403);
      problem(await send(app, anonymous, 'GET', url), 401);
    });

    it('serves one movement by id under its own product only', async () => {
      const product = await aProduct(app, caller, { stock: 3 });
      const other = await aProduct(app, caller, { stock: 3 });
      const [movement] = await movementsOf(product);
      const url = `/products/${product.id}/inventory-movements/${movement!.id}`;
      expect(await expectStatus(app, caller, 200, 'GET', url)).toEqual(movement);
      problem(await send(app, caller, 'GET', `/products/${other.id}/inventory-movements/${movement!.id}`), 404);
      problem(await send(app, caller, 'GET', `/products/${product.id}/inventory-movements/${MISSING_ID}`), 404);
    });
  });

  describe('POST /products/{id}/inventory-adjustments', () => {
    it('answers 201 with the movement and a Location that GET resolves, and changes the stock', async () => {
      const product = await aProduct(app, caller, { stock: 10 });
      const response = await adjust(product, { delta: -4, reason: 'stocktake found fewer' });
      expect(response.statusCode, response.body).toBe(201);
      const movement = response.json<Movement>();
      expect(movement).toEqual({
        id: expect.any(Number),
        product_id: product.id,
        quantity: -4,
        type: 'adjustment',
        reason: 'stocktake found fewer',
        order_id: null,
        actor: staffLabel,
        created_at: expect.any(String),
      });
      const location = response.headers.location as string;
      expect(location).toBe(`/products/${product.id}/inventory-movements/${movement.id}`);
      const reread = await send(app, caller, 'GET', location);
      expect(reread.statusCode).toBe(200);
      expect(reread.json()).toEqual(movement);
      expect(reread.headers.etag).toBe(response.headers.etag);
      expect(await stockOf(product)).toBe(6);
      expect((await movementsOf(product)).at(-1)).toEqual(movement);
    });

    it('may take the stock to exactly zero', async () => {
      const product = await aProduct(app, caller, { stock: 5 });
      expect((await adjust(product, { delta: -5, reason: 'recalled' })).statusCode).toBe(201);
      expect(await expectStockIsLedgerSum(product)).toMatchObject({ stock: 0 });
    });

    it('answers 409 naming delta when the result would be below zero, and changes nothing', async () => {
      const product = await aProduct(app, caller, { stock: 5 });
      const before = await expectStatus<Product>(app, caller, 200, 'GET', `/products/${product.id}`);
      const movements = await movementsOf(product);
      const body = problem(await adjust(product, { delta: -6, reason: 'too many' }), 409);
      expect(body.errors?.map((e) => e.field)).toEqual(['delta']);
      expect(await expectStatus(app, caller, 200, 'GET', `/products/${product.id}`)).toEqual(before);
      expect(await movementsOf(product)).toEqual(movements);

      const empty = await aProduct(app, caller, { stock: 0 });
      problem(await adjust(empty, { delta: -1, reason: 'nothing there' }), 409);
      expect(await expectStockIsLedgerSum(empty)).toEqual({ movements: [], stock: 0 });
    });

    it('answers 404 for an unknown product', async () => {
      const body = problem(
        await send(app, caller, 'POST', `/products/${MISSING_ID}/inventory-adjustments`, {
          delta: 1,
          reason: 'ghost',
        }),
        404,
      );
      expect(body.code).toBe('PRODUCT_NOT_FOUND');
    });

    it.each<[string, unknown, string]>([
      ['delta 0', { delta: 0, reason: 'nothing' }, 'delta'],
      ['a missing reason', { delta: 1 }, 'reason'],
      ['an empty reason', { delta: 1, reason: '' }, 'reason'],
      ['a blank reason', { delta: 1, reason: '   ' }, 'reason'],
      ['a missing delta', { reason: 'why' }, 'delta'],
      ['a fractional delta', { delta: 1.5, reason: 'why' }, 'delta'],
      ['a delta as a string', { delta: '3', reason: 'why' }, 'delta'],
      ['an unknown field', { delta: 1, reason: 'why', note: 'x' }, 'note'],
    ])('answers 400 naming the field for %s, and changes nothing', async (_label, body, field) => {
      const product = await aProduct(app, caller, { stock: 5 });
      expect(fieldsOf(await adjust(product, body), 400)).toContain(field);
      expect(await expectStockIsLedgerSum(product)).toMatchObject({ stock: 5 });
      expect(await movementsOf(product)).toHaveLength(1);
    });

    it('answers 403 to a customer and 401 anonymously, and changes nothing', async () => {
      const product = await aProduct(app, caller, { stock: 5 });
      const customer = await aSignedInCustomer(app);
      expect(problem(await adjust(product, { delta: 5, reason: 'mine now' }, customer), 403).code).toBe('FORBIDDEN');
      problem(await adjust(product, { delta: 5, reason: 'mine now' }, anonymous), 401);
      expect(await expectStockIsLedgerSum(product)).toMatchObject({ stock: 5 });
      expect(await movementsOf(product)).toHaveLength(1);
    });
  });

  describe('GET /inventory/low-stock', () => {
    // A database of its own, so the report holds exactly the products made here.
    let lowApp: App;
    let admin: Caller;
    let products: Record<string, Product>;
    beforeAll(async () => {
      lowApp = await createTestApp();
      admin = await staff(lowApp);
      products = {};
      for (const [name, stock, active] of [
        ['b0', 0, true],
        ['a2', 2, true],
        ['c1', 1, true],
        ['d0', 0, true],
        ['e5', 5, true],
        ['f100', 100, true],
        ['g1-archived', 1, false],
        ['h2', 2, true],
        ['i0-archived', 0, false],
      ] as const) {
        products[name] = await aProduct(lowApp, admin, { name, stock, active });
      }
    });
    afterAll(async () => lowApp.close());

    const names = (list: Product[]) => list.map((p) => p.name);

    it('lists active products at or below the threshold, lowest stock first, then by id', async () => {
      const list = await expectStatus<Product[]>(lowApp, admin, 200, 'GET', '/inventory/low-stock?threshold=2');
      expect(names(list)).toEqual(['b0', 'd0', 'c1', 'a2', 'h2']);
      expect(list[0]).toEqual(products.b0);
      expect(names(await expectStatus(lowApp, admin, 200, 'GET', '/inventory/low-stock?threshold=0'))).toEqual([
        'b0',
        'd0',
      ]);
      expect(names(await expectStatus(lowApp, admin, 200, 'GET', '/inventory/low-stock?threshold=5'))).toEqual([
        'b0',
        'd0',
        'c1',
        'a2',
        'h2',
        'e5',
      ]);
      const all = await expectStatus<Product[]>(lowApp, admin, 200, 'GET', '/inventory/low-stock?threshold=1000');
      expect(all).toHaveLength(7);
      expect(all.every((p) => p.active)).toBe(true);
    });

    it('pages through the Link header without losing or repeating a product', async () => {
      const pages = await allPages<Product>(lowApp, admin, '/inventory/low-stock?threshold=5&limit=2');
      expect(pages.map((p) => p.length)).toEqual([2, 2, 2]);
      expect(names(pages.flat())).toEqual(['b0', 'd0', 'c1', 'a2', 'h2', 'e5']);
      const first = await send(lowApp, admin, 'GET', '/inventory/low-stock?threshold=5&limit=2');
      expect(String(first.headers.link)).toContain('threshold=5');
      expect(String(first.headers.link)).toContain('limit=2');
    });

    it('follows stock changes', async () => {
      const e5 = products.e5!;
      const url = `/products/${e5.id}/inventory-adjustments`;
      await expectStatus(lowApp, admin, 201, 'POST', url, { delta: -4, reason: 'sold at the fair' });
      const list = await expectStatus<Product[]>(lowApp, admin, 200, 'GET', '/inventory/low-stock?threshold=1');
      expect(names(list)).toEqual(['b0', 'd0', 'c1', 'e5']);
      await expectStatus(lowApp, admin, 201, 'POST', url, { delta: 4, reason: 'returned from the fair' });
      expect(names(await expectStatus(lowApp, admin, 200, 'GET', '/inventory/low-stock?threshold=1'))).toEqual([
        'b0',
        'd0',
        'c1',
      ]);
    });

    it('answers 400 without a threshold or with a bad one, 403 to a customer and 401 anonymously', async () => {
      for (const url of [
        '/inventory/low-stock',
        '/inventory/low-stock?threshold=',
        '/inventory/low-stock?threshold=-1',
        '/inventory/low-stock?threshold=abc',
        '/inventory/low-stock?threshold=1.5',
      ]) {
        expect(fieldsOf(await send(lowApp, admin, 'GET', url), 400)).toContain('threshold');
      }
      expect(fieldsOf(await send(lowApp, admin, 'GET', '/inventory/low-stock?threshold=1&cursor=bad'), 400)).toContain(
        'cursor',
      );
      problem(await send(lowApp, await aSignedInCustomer(lowApp), 'GET', '/inventory/low-stock?threshold=1'), 403);
      problem(await send(lowApp, anonymous, 'GET', '/inventory/low-stock?threshold=1'), 401);
    });
  });
});
