import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../app.js';
import { createTestApp, usingPostgres } from '../../../test/app.js';
import {
  aCustomer,
  anOrder,
  aProduct,
  aSignedInCustomer,
  expectStatus,
  type Customer,
  type Order,
  type Product,
} from '../../../test/factories.js';
import { send, staff, type Caller } from '../../../test/http.js';

type Movement = { id: number; product_id: number; quantity: number; type: string; order_id: number | null };
type Item = { product_id: number; quantity: number };

/** A small seeded generator (mulberry32), so a failing interleaving of requests can be sent again. */
function seeded(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const shuffle = <T>(list: T[]) => {
    const copy = [...list];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = int(0, i);
      [copy[i], copy[j]] = [copy[j]!, copy[i]!];
    }
    return copy;
  };
  return { int, shuffle };
}

const codeOf = (response: LightMyRequestResponse) => response.json<{ code?: string }>().code;

describe(`concurrent orders (${usingPostgres() ? 'PostgreSQL' : 'PGlite'})`, () => {
  let app: App;
  let caller: Caller;
  /** Who places orders: several signed-in customers, and staff ordering for a customer of their own. */
  let buyers: { who: Caller; customerId?: number }[];
  beforeAll(async () => {
    app = await createTestApp();
    caller = await staff(app);
    const customers = await Promise.all([1, 2, 3, 4].map(() => aSignedInCustomer(app)));
    const forStaff: Customer = await aCustomer(app, caller);
    buyers = [...customers.map((c) => ({ who: c })), { who: caller, customerId: forStaff.id }];
  });
  afterAll(async () => app.close());

  const place = (buyer: (typeof buyers)[number], items: Item[], headers: Record<string, string> = {}) =>
    send(
      app,
      buyer.who,
      'POST',
      '/orders',
      buyer.customerId === undefined ? { items } : { customer_id: buyer.customerId, items },
      headers,
    );

  const stockOf = async (product: Product) =>
    (await expectStatus<Product>(app, caller, 200, 'GET', `/products/${product.id}`)).stock;

  /** A product's whole ledger, read page by page through the Link header. */
  async function movementsOf(product: Product): Promise<Movement[]> {
    const all: Movement[] = [];
    let next: string | undefined = `/products/${product.id}/inventory-movements?limit=50`;
    for (let pages = 0; next; pages++) {
      const response = await send(app, caller, 'GET', next);
      expect(response.statusCode, response.body).toBe(200);
      all.push(...response.json<Movement[]>());
      const link = response.headers.link as string | undefined;
      next = link ? /^<([^>]+)>; rel="next"$/.exec(link)?.[1] : undefined;
      expect(pages).toBeLessThan(100);
    }
    return all;
  }
  const ledgerSum = async (product: Product) => (await movementsOf(product)).reduce((sum, m) => sum + m.quantity, 0);

  /** Every status that came back, counted. */
  const tally = (responses: LightMyRequestResponse[]) =>
    responses.reduce<Record<number, number>>(
      (counts, r) => ({ ...counts, [r.statusCode]: (counts[r.statusCode] ?? 0) + 1 }),
      {},
    );

  it('sells exactly the 25 units in stock to 100 simultaneous one-unit orders', async () => {
    const product = await aProduct(app, caller, { stock: 25 });
    const responses = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        place(buyers[i % buyers.length]!, [{ product_id: product.id, quantity: 1 }]),
      ),
    );
    expect(tally(responses)).toEqual({ 201: 25, 409: 75 });
    for (const refused of responses.filter((r) => r.statusCode === 409)) {
      expect(codeOf(refused)).toBe('INSUFFICIENT_STOCK');
    }
    const created = responses.filter((r) => r.statusCode === 201).map((r) => r.json<Order>());
    expect(new Set(created.map((o) => o.id)).size).toBe(25);
    expect(created.every((o) => o.items.length === 1 && o.items[0]!.quantity === 1)).toBe(true);

    expect(await stockOf(product)).toBe(0);
    const movements = await movementsOf(product);
    expect(movements.reduce((sum, m) => sum + m.quantity, 0)).toBe(0);
    const orderMovements = movements.filter((m) => m.type === 'order');
    expect(orderMovements).toHaveLength(25);
    expect(new Set(orderMovements.map((m) => m.order_id))).toEqual(new Set(created.map((o) => o.id)));
  });

  it('keeps every product consistent under 60 simultaneous multi-item orders over overlapping products', async () => {
    const random = seeded(20_240_611);
    const initial = [12, 9, 15, 7, 10, 20];
    const products = await Promise.all(initial.map((stock) => aProduct(app, caller, { stock })));
    const requests = Array.from({ length: 60 }, () => {
      const chosen = random.shuffle(products).slice(0, random.int(2, 4));
      return {
        buyer: buyers[random.int(0, buyers.length - 1)]!,
        items: chosen.map((p) => ({ product_id: p.id, quantity: random.int(1, 3) })),
      };
    });

    const responses = await Promise.all(requests.map((r) => place(r.buyer, r.items)));
    const statuses = tally(responses);
    expect(Object.keys(statuses).sort()).toEqual(['201', '409']);
    for (const refused of responses.filter((r) => r.statusCode === 409)) {
      expect(codeOf(refused)).toBe('INSUFFICIENT_STOCK');
    }

    const created = responses.filter((r) => r.statusCode === 201).map((r) => r.json<Order>());
    for (const [index, product] of products.entries()) {
      const ordered = created
        .flatMap((o) => o.items as unknown as Item[])
        .filter((item) => item.product_id === product.id)
        .reduce((sum, item) => sum + item.quantity, 0);
      const stock = await stockOf(product);
      expect(stock).toBeGreaterThanOrEqual(0);
      expect(stock + ordered).toBe(initial[index]);
      expect(await ledgerSum(product)).toBe(stock);
    }
    // What each created order says it took is what it asked for.
    const asked = new Map(
      responses.flatMap((r, i) => (r.statusCode === 201 ? [[r.json<Order>().id, requests[i]!.items]] : [])),
    );
    for (const order of created) {
      const items = (order.items as unknown as Item[]).map(({ product_id, quantity }) => ({ product_id, quantity }));
      expect(items.sort((a, b) => a.product_id - b.product_id)).toEqual(
        [...asked.get(order.id)!].sort((a, b) => a.product_id - b.product_id),
      );
    }
  });

  it('keeps stock equal to its ledger when orders, cancels, adjustments and stock edits all race', async () => {
    const random = seeded(7);
    const products = await Promise.all([30, 30, 30, 30].map((stock) => aProduct(app, caller, { stock })));
    const pending = [];
    for (let i = 0; i < 10; i++) {
      const buyer = buyers[i % buyers.length]!;
      const items = random
        .shuffle(products)
        .slice(0, 2)
        .map((p) => ({ product_id: p.id, quantity: 2 }));
      const response = await place(buyer, items);
      expect(response.statusCode, response.body).toBe(201);
      pending.push({ order: response.json<Order>(), buyer });
    }

    const work: Promise<[string, LightMyRequestResponse]>[] = [];
    const tagged = (kind: string, request: Promise<LightMyRequestResponse>) =>
      work.push(request.then((response) => [kind, response]));
    for (let i = 0; i < 30; i++) {
      const items = random
        .shuffle(products)
        .slice(0, random.int(1, 4))
        .map((p) => ({ product_id: p.id, quantity: random.int(1, 4) }));
      tagged('order', place(buyers[random.int(0, buyers.length - 1)]!, items));
    }
    for (const { order, buyer } of pending)
      tagged('cancel', send(app, buyer.who, 'POST', `/orders/${order.id}/cancel`));
    for (let i = 0; i < 10; i++) {
      const product = products[random.int(0, products.length - 1)]!;
      const delta = random.int(-8, 8) || 1;
      tagged(
        'adjust',
        send(app, caller, 'POST', `/products/${product.id}/inventory-adjustments`, { delta, reason: `race ${i}` }),
      );
    }
    for (let i = 0; i < 4; i++) {
      tagged('edit', send(app, caller, 'PATCH', `/products/${products[i]!.id}`, { stock: random.int(5, 40) }));
    }

    const expected: Record<string, number[]> = { order: [201, 409], cancel: [200], adjust: [201, 409], edit: [200] };
    for (const [kind, response] of await Promise.all(work)) {
      expect(expected[kind], `${kind}: ${response.statusCode} ${response.body}`).toContain(response.statusCode);
    }
    for (const product of products) {
      const stock = await stockOf(product);
      expect(stock).toBeGreaterThanOrEqual(0);
      expect(await ledgerSum(product)).toBe(stock);
    }
  });

  it('creates one order for 20 simultaneous identical requests under one Idempotency-Key', async () => {
    const product = await aProduct(app, caller, { stock: 50 });
    const shopper = await aSignedInCustomer(app);
    const key = randomUUID();
    const items = [{ product_id: product.id, quantity: 3 }];
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => place({ who: shopper }, items, { 'idempotency-key': key })),
    );

    const statuses = tally(responses);
    expect(
      Object.keys(statuses).every((s) => s === '201' || s === '409'),
      JSON.stringify(statuses),
    ).toBe(true);
    for (const busy of responses.filter((r) => r.statusCode === 409)) {
      expect(codeOf(busy)).toBe('IDEMPOTENCY_KEY_IN_USE');
    }
    const created = responses.filter((r) => r.statusCode === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(new Set(created.map((r) => r.json<Order>().id)).size).toBe(1);
    expect(created.filter((r) => r.headers['idempotent-replayed'] === undefined)).toHaveLength(1);
    for (const replay of created.filter((r) => r.headers['idempotent-replayed'] !== undefined)) {
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.json()).toEqual(created[0]!.json());
      expect(replay.headers.location).toBe(created[0]!.headers.location);
    }

    const orders = await expectStatus<Order[]>(app, shopper, 200, 'GET', '/orders');
    expect(orders.map((o) => o.id)).toEqual([created[0]!.json<Order>().id]);
    expect(await stockOf(product)).toBe(47);
    const movements = await movementsOf(product);
    expect(movements.filter((m) => m.type === 'order')).toHaveLength(1);
    expect(movements.reduce((sum, m) => sum + m.quantity, 0)).toBe(47);

    // Once everything has settled, a repeat is a plain replay.
    const later = await place({ who: shopper }, items, { 'idempotency-key': key });
    expect(later.statusCode).toBe(201);
    expect(later.headers['idempotent-replayed']).toBe('true');
    expect(later.json()).toEqual(created[0]!.json());
  });

  it('lets only one of two orders racing for the last units through, whatever order their items come in', async () => {
    for (let round = 0; round < 5; round++) {
      const [a, b] = await Promise.all([aProduct(app, caller, { stock: 1 }), aProduct(app, caller, { stock: 1 })]);
      const forward = [a, b].map((p) => ({ product_id: p.id, quantity: 1 }));
      const responses = await Promise.all([
        place(buyers[0]!, forward),
        place(buyers[1]!, [...forward].reverse()),
        place(buyers[4]!, forward),
      ]);
      expect(tally(responses)).toEqual({ 201: 1, 409: 2 });
      for (const product of [a, b]) {
        expect(await stockOf(product)).toBe(0);
        expect(await ledgerSum(product)).toBe(0);
      }
    }
  });

  it('lets a cancel race two orders for the same units without overselling', async () => {
    const product = await aProduct(app, caller, { stock: 2 });
    const buyer = buyers[0]!;
    const first = await anOrder(app, buyer.who, { items: [{ product_id: product.id, quantity: 2 }] });
    const responses = await Promise.all([
      send(app, buyer.who, 'POST', `/orders/${first.id}/cancel`),
      place(buyers[1]!, [{ product_id: product.id, quantity: 2 }]),
      place(buyers[2]!, [{ product_id: product.id, quantity: 2 }]),
    ]);
    expect(responses[0].statusCode).toBe(200);
    const placed = responses.slice(1).filter((r) => r.statusCode === 201).length;
    expect(placed).toBeLessThanOrEqual(1);
    expect(await stockOf(product)).toBe(2 - 2 * placed);
    expect(await ledgerSum(product)).toBe(2 - 2 * placed);
  });
});
