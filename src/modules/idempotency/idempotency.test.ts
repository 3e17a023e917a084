import { randomBytes, randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../app.js';
import { createTestApp } from '../../../test/app.js';
import {
  aContact,
  aCustomer,
  anOrder,
  aProduct,
  aSignedInCustomer,
  contactFields,
  customerFields,
  expectStatus,
  productFields,
  type Customer,
  type Order,
  type Product,
} from '../../../test/factories.js';
import { anonymous, logIn, send, staff, type Caller, type Method } from '../../../test/http.js';

type Json = Record<string, unknown>;

const newKey = () => randomUUID();
const tag = () => randomBytes(4).toString('hex');
const STRONG_ETAG = /^"[\x21\x23-\x7e]+"$/;

/** Asserts a problem+json answer with the given status and returns its body. */
function problem(response: LightMyRequestResponse, status: number) {
  expect(response.statusCode, response.body).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = response.json<Json & { code: string; status: number; errors?: { field: string }[] }>();
  expect(body.status).toBe(status);
  return body;
}

/** The same JSON object with its keys (at every level) in reverse order. */
function reversed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversed);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Json)
        .reverse()
        .map(([k, v]) => [k, reversed(v)]),
    );
  }
  return value;
}

describe('idempotency keys and ETags', () => {
  let app: App;
  let caller: Caller;
  let shopper: Caller & { customer: Customer };
  beforeAll(async () => {
    app = await createTestApp();
    caller = await staff(app);
    shopper = await aSignedInCustomer(app);
  });
  afterAll(async () => app.close());

  const keyed = (who: Caller, method: Method, url: string, body: unknown, key: string, headers: Json = {}) =>
    send(app, who, method, url, body, { 'idempotency-key': key, ...(headers as Record<string, string>) });

  /** How many items a list URL leads to across all its pages. */
  async function countOf(url: string, who: Caller = caller): Promise<number> {
    let total = 0;
    let next: string | undefined = url;
    for (let pages = 0; next; pages++) {
      const response = await send(app, who, 'GET', next);
      expect(response.statusCode, response.body).toBe(200);
      total += response.json<unknown[]>().length;
      const link = response.headers.link as string | undefined;
      next = link ? /^<([^>]+)>; rel="next"$/.exec(link)?.[1] : undefined;
      expect(pages).toBeLessThan(100);
    }
    return total;
  }

  const stockOf = async (product: Product) =>
    (await expectStatus<Product>(app, caller, 200, 'GET', `/products/${product.id}`)).stock;

  /** The second answer is the first one again: status, body, Location and ETag, marked as a replay. */
  function expectReplay(first: LightMyRequestResponse, again: LightMyRequestResponse) {
    expect(again.statusCode, again.body).toBe(first.statusCode);
    expect(again.json()).toEqual(first.json());
    expect(again.headers.location).toBe(first.headers.location);
    expect(again.headers['idempotent-replayed']).toBe('true');
    if (first.statusCode < 300) expect(again.headers.etag).toBe(first.headers.etag);
  }

  type CreateCase = {
    route: string;
    who: () => Caller;
    url: () => string;
    body: () => Json;
    /** A body that differs from body() (for routes whose body() is always the same). */
    otherBody?: () => Json;
    count: () => Promise<number>;
    location: (created: Json) => string;
  };

  let stocked: Product;
  beforeAll(async () => {
    stocked = await aProduct(app, caller, { stock: 1000 });
  });

  const cases: CreateCase[] = [
    {
      route: 'POST /orders',
      who: () => shopper,
      url: () => '/orders',
      body: () => ({ items: [{ product_id: stocked.id, quantity: 2 }] }),
      otherBody: () => ({ items: [{ product_id: stocked.id, quantity: 3 }] }),
      count: async () => (await countOf('/orders?limit=200', shopper)) * 10_000 + (await stockOf(stocked)),
      location: (o) => `/orders/${String(o.id)}`,
    },
    {
      route: 'POST /customers',
      who: () => caller,
      url: () => '/customers',
      body: () => customerFields(),
      count: () => countOf('/customers?limit=200'),
      location: (c) => `/customers/${String(c.id)}`,
    },
    {
      route: 'POST /contacts',
      who: () => shopper,
      url: () => '/contacts',
      body: () => contactFields({ city: `City ${tag()}` }),
      count: () => countOf('/contacts?limit=200'),
      location: (c) => `/contacts/${String(c.id)}`,
    },
    {
      route: 'POST /products',
      who: () => caller,
      url: () => '/products',
      body: () => productFields({ stock: 4 }),
      count: () => countOf('/products?include_archived=true&limit=200'),
      location: (p) => `/products/${String(p.id)}`,
    },
    {
      route: 'POST /staff',
      who: () => caller,
      url: () => '/staff',
      body: () => ({ username: `staff_${tag()}`, email_id: `staff_${tag()}@example.com`, password: 'long password 1' }),
      count: () => countOf('/staff?limit=200'),
      location: (s) => `/staff/${String(s.id)}`,
    },
    {
      route: 'POST /products/{id}/inventory-adjustments',
      who: () => caller,
      url: () => `/products/${stocked.id}/inventory-adjustments`,
      body: () => ({ delta: 3, reason: 'found in the back room' }),
      otherBody: () => ({ delta: 3, reason: 'found in the front room' }),
      count: async () =>
        (await countOf(`/products/${stocked.id}/inventory-movements?limit=200`)) * 10_000 + (await stockOf(stocked)),
      location: (m) => `/products/${stocked.id}/inventory-movements/${String(m.id)}`,
    },
  ];

  describe.each(cases)('$route', ({ who, url, body, otherBody = body, count, location }) => {
    it('answers a repeat with the same status, body, Location and ETag, marked Idempotent-Replayed, creating nothing', async () => {
      const key = newKey();
      const payload = body();
      const before = await count();
      const first = await keyed(who(), 'POST', url(), payload, key);
      expect(first.statusCode, first.body).toBe(201);
      expect(first.headers['idempotent-replayed']).toBeUndefined();
      expect(first.headers.location).toBe(location(first.json()));
      const afterFirst = await count();
      expect(afterFirst).not.toBe(before);

      for (let i = 0; i < 2; i++) expectReplay(first, await keyed(who(), 'POST', url(), payload, key));
      expect(await count()).toBe(afterFirst);

      // The Location of the stored answer still leads to the created resource.
      const reread = await send(app, caller, 'GET', first.headers.location as string);
      expect(reread.statusCode).toBe(200);
      expect(reread.headers.etag).toBe(first.headers.etag);
    });

    it('matches bodies as parsed JSON: key order and whitespace do not matter', async () => {
      const key = newKey();
      const payload = body();
      const first = await keyed(who(), 'POST', url(), payload, key);
      expect(first.statusCode, first.body).toBe(201);
      const afterFirst = await count();
      expectReplay(first, await keyed(who(), 'POST', url(), reversed(payload), key));
      const spaced = JSON.stringify(reversed(payload), null, 3);
      expectReplay(first, await keyed(who(), 'POST', url(), spaced, key, { 'content-type': 'application/json' }));
      expect(await count()).toBe(afterFirst);
    });

    it('answers 422 for the same key with another body, and creates nothing', async () => {
      const key = newKey();
      const payload = body();
      const first = await keyed(who(), 'POST', url(), payload, key);
      expect(first.statusCode, first.body).toBe(201);
      const afterFirst = await count();
      const other = problem(await keyed(who(), 'POST', url(), otherBody(), key), 422);
      expect(other.code).toBe('IDEMPOTENCY_KEY_REUSED');
      expect(await count()).toBe(afterFirst);
      // The stored answer is untouched: the original body still replays.
      expectReplay(first, await keyed(who(), 'POST', url(), payload, key));
      expect(await count()).toBe(afterFirst);
    });
  });

  describe('keys', () => {
    it('answers 422 when a key is reused on another route', async () => {
      const key = newKey();
      expect((await keyed(caller, 'POST', '/products', productFields(), key)).statusCode).toBe(201);
      const before = await countOf('/contacts?limit=200');
      const body = problem(await keyed(caller, 'POST', '/contacts', contactFields(), key), 422);
      expect(body.code).toBe('IDEMPOTENCY_KEY_REUSED');
      expect(await countOf('/contacts?limit=200')).toBe(before);
    });

    it('scopes keys to the calling account: the same key from another account creates its own resource', async () => {
      const key = newKey();
      const other = await aSignedInCustomer(app);
      const payload = contactFields({ city: 'Shared Key City' });
      const mine = await keyed(shopper, 'POST', '/contacts', payload, key);
      const theirs = await keyed(other, 'POST', '/contacts', payload, key);
      const staffs = await keyed(caller, 'POST', '/contacts', contactFields({ city: 'Another body' }), key);
      for (const response of [mine, theirs, staffs]) {
        expect(response.statusCode, response.body).toBe(201);
        expect(response.headers['idempotent-replayed']).toBeUndefined();
      }
      const ids = [mine, theirs, staffs].map((r) => r.json<{ id: number }>().id);
      expect(new Set(ids).size).toBe(3);
      // Each account gets its own answer back.
      expectReplay(mine, await keyed(shopper, 'POST', '/contacts', payload, key));
      expectReplay(theirs, await keyed(other, 'POST', '/contacts', payload, key));
      expect(await expectStatus(app, other, 200, 'GET', `/contacts/${ids[1]}`)).toEqual(theirs.json());
      problem(await send(app, other, 'GET', `/contacts/${ids[0]}`), 404);
    });

    it('replays an anonymous sign-up, creating one customer who can log in', async () => {
      const key = newKey();
      const fields = customerFields();
      const before = await countOf('/customers?limit=200');
      const first = await keyed(anonymous, 'POST', '/customers', fields, key);
      expect(first.statusCode, first.body).toBe(201);
      const again = await keyed(anonymous, 'POST', '/customers', reversed(fields), key);
      expectReplay(first, again);
      expect(await countOf('/customers?limit=200')).toBe(before + 1);
      await logIn(app, fields.username, fields.password);
      // Anonymous callers share one scope: another visitor's different body under that key is refused.
      expect(problem(await keyed(anonymous, 'POST', '/customers', customerFields(), key), 422).code).toBe(
        'IDEMPOTENCY_KEY_REUSED',
      );
      // A signed-in account does not share it.
      const signedIn = await keyed(shopper, 'POST', '/customers', customerFields(), key);
      expect(signedIn.statusCode, signedIn.body).toBe(201);
      expect(await countOf('/customers?limit=200')).toBe(before + 2);
    });

    it('stores a 409 for short stock and replays it even after restocking', async () => {
      const product = await aProduct(app, caller, { stock: 1 });
      const key = newKey();
      const payload = { items: [{ product_id: product.id, quantity: 2 }] };
      const first = await keyed(shopper, 'POST', '/orders', payload, key);
      expect(problem(first, 409).code).toBe('INSUFFICIENT_STOCK');
      expect(first.headers['idempotent-replayed']).toBeUndefined();

      await expectStatus(app, caller, 201, 'POST', `/products/${product.id}/inventory-adjustments`, {
        delta: 10,
        reason: 'restock',
      });
      const orders = await countOf('/orders?limit=200', shopper);
      const again = await keyed(shopper, 'POST', '/orders', payload, key);
      expectReplay(first, again);
      expect(again.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(await stockOf(product)).toBe(11);
      expect(await countOf('/orders?limit=200', shopper)).toBe(orders);

      // A new key is a new attempt, and now succeeds.
      expect((await keyed(shopper, 'POST', '/orders', payload, newKey())).statusCode).toBe(201);
      expect(await stockOf(product)).toBe(9);
    });

    it('does not store a 403: the refusal is not replayed as if it were an answer', async () => {
      const key = newKey();
      const response = await keyed(shopper, 'POST', '/products', productFields(), key);
      problem(response, 403);
      expect(response.headers['idempotent-replayed']).toBeUndefined();
      const again = await keyed(shopper, 'POST', '/products', productFields(), key);
      problem(again, 403);
      expect(again.headers['idempotent-replayed']).toBeUndefined();
    });

    it('accepts a key of 255 characters and answers 400 naming Idempotency-Key for 256, creating nothing', async () => {
      const before = await countOf('/products?include_archived=true&limit=200');
      const tooLong = problem(await keyed(caller, 'POST', '/products', productFields(), 'k'.repeat(256)), 400);
      expect(tooLong.errors?.map((e) => e.field)).toEqual(['Idempotency-Key']);
      expect(await countOf('/products?include_archived=true&limit=200')).toBe(before);
      const longest = `${tag()}${'k'.repeat(247)}`;
      expect(longest).toHaveLength(255);
      const payload = productFields();
      const first = await keyed(caller, 'POST', '/products', payload, longest);
      expect(first.statusCode, first.body).toBe(201);
      expectReplay(first, await keyed(caller, 'POST', '/products', payload, longest));
    });

    it('replays a keyed cancel instead of answering 409 the second time', async () => {
      const order = await anOrder(app, shopper, { items: [{ product_id: stocked.id, quantity: 1 }] });
      const key = newKey();
      const first = await keyed(shopper, 'POST', `/orders/${order.id}/cancel`, undefined, key);
      expect(first.statusCode, first.body).toBe(200);
      const stock = await stockOf(stocked);
      expectReplay(first, await keyed(shopper, 'POST', `/orders/${order.id}/cancel`, undefined, key));
      expect(await stockOf(stocked)).toBe(stock);
      problem(await send(app, shopper, 'POST', `/orders/${order.id}/cancel`), 409);
    });
  });

  describe('ETags', () => {
    it.each<[string, () => Promise<LightMyRequestResponse>]>([
      ['a customer', () => send(app, caller, 'POST', '/customers', customerFields())],
      ['a contact', () => send(app, shopper, 'POST', '/contacts', contactFields())],
      ['a product', () => send(app, caller, 'POST', '/products', productFields())],
      ['an order', () => send(app, shopper, 'POST', '/orders', { items: [{ product_id: stocked.id, quantity: 1 }] })],
      [
        'a staff member',
        () =>
          send(app, caller, 'POST', '/staff', {
            username: `staff_${tag()}`,
            email_id: `staff_${tag()}@example.com`,
            password: 'long password 1',
          }),
      ],
    ])('gives %s a strong ETag on its 201 that GET repeats', async (_label, create) => {
      const created = await create();
      expect(created.statusCode, created.body).toBe(201);
      const etag = created.headers.etag as string;
      expect(etag).toMatch(STRONG_ETAG);
      const read = await send(app, caller, 'GET', created.headers.location as string);
      expect(read.statusCode).toBe(200);
      expect(read.headers.etag).toBe(etag);
      expect(read.json()).toEqual(created.json());
    });

    it('changes a product ETag when an order, a cancel or an adjustment changes its stock', async () => {
      const product = await aProduct(app, caller, { stock: 10 });
      const etagOf = async () => (await send(app, caller, 'GET', `/products/${product.id}`)).headers.etag;
      const seen = [await etagOf()];
      const order = await anOrder(app, shopper, { items: [{ product_id: product.id, quantity: 1 }] });
      seen.push(await etagOf());
      await expectStatus(app, shopper, 200, 'POST', `/orders/${order.id}/cancel`);
      seen.push(await etagOf());
      await expectStatus(app, caller, 201, 'POST', `/products/${product.id}/inventory-adjustments`, {
        delta: 1,
        reason: 'count',
      });
      seen.push(await etagOf());
      for (const etag of seen) expect(etag).toMatch(STRONG_ETAG);
      expect(seen[1]).not.toBe(seen[0]);
      expect(seen[2]).not.toBe(seen[1]);
      expect(seen[3]).not.toBe(seen[2]);
    });

    type EtagCase = {
      label: string;
      who: () => Caller;
      make: () => Promise<string>;
      change: Json;
      otherChange: Json;
      /** Something else a stale write must leave alone. */
      sideEffect?: () => Promise<unknown>;
    };

    const etagCases: EtagCase[] = [
      {
        label: 'customers',
        who: () => caller,
        make: async () => `/customers/${(await aCustomer(app, caller)).id}`,
        change: { first_name: 'Grace' },
        otherChange: { last_name: 'Hopper' },
      },
      {
        label: 'contacts',
        who: () => caller,
        make: async () => `/contacts/${(await aContact(app, caller)).id}`,
        change: { city: 'Shelbyville' },
        otherChange: { postal_code: '54321' },
      },
      {
        label: 'products',
        who: () => caller,
        make: async () => `/products/${(await aProduct(app, caller, { stock: 8 })).id}`,
        change: { price: 4242 },
        otherChange: { stock: 3 },
      },
      {
        label: 'orders',
        who: () => caller,
        make: async () =>
          `/orders/${(await anOrder(app, shopper, { items: [{ product_id: stocked.id, quantity: 1 }] })).id}`,
        change: { status: 'paid' },
        otherChange: { status: 'cancelled' },
        sideEffect: () => stockOf(stocked),
      },
    ];

    describe.each(etagCases)('PATCH $label with If-Match', ({ who, make, change, otherChange, sideEffect }) => {
      it('answers 412 for a stale ETag and changes nothing', async () => {
        const url = await make();
        const original = await send(app, who(), 'GET', url);
        const stale = original.headers.etag as string;
        expect(stale).toMatch(STRONG_ETAG);

        const changed = await send(app, who(), 'PATCH', url, change);
        expect(changed.statusCode, changed.body).toBe(200);
        const current = changed.headers.etag as string;
        expect(current).toMatch(STRONG_ETAG);
        expect(current).not.toBe(stale);

        const side = await sideEffect?.();
        const refused = problem(await send(app, who(), 'PATCH', url, otherChange, { 'if-match': stale }), 412);
        expect(refused.code).toBe('PRECONDITION_FAILED');
        const after = await send(app, who(), 'GET', url);
        expect(after.json()).toEqual(changed.json());
        expect(after.headers.etag).toBe(current);
        expect(await sideEffect?.()).toEqual(side);

        // A weak form of the current tag does not match under the strong comparison If-Match uses.
        problem(await send(app, who(), 'PATCH', url, otherChange, { 'if-match': `W/${current}` }), 412);
        expect((await send(app, who(), 'GET', url)).headers.etag).toBe(current);
      });

      it('applies a PATCH whose If-Match matches, answering a new ETag that GET repeats', async () => {
        const url = await make();
        const etag = (await send(app, who(), 'GET', url)).headers.etag as string;
        const response = await send(app, who(), 'PATCH', url, change, { 'if-match': etag });
        expect(response.statusCode, response.body).toBe(200);
        const fresh = response.headers.etag as string;
        expect(fresh).toMatch(STRONG_ETAG);
        expect(fresh).not.toBe(etag);
        const read = await send(app, who(), 'GET', url);
        expect(read.headers.etag).toBe(fresh);
        expect(read.json()).toEqual(response.json());
        expect(read.json()).toMatchObject(change);

        // A list holding the current tag matches too; If-Match stays optional.
        const listed = await send(app, who(), 'PATCH', url, otherChange, { 'if-match': `"nope", ${fresh}` });
        expect(listed.statusCode, listed.body).toBe(200);
        expect(listed.headers.etag).not.toBe(fresh);
      });
    });

    it('lets the owner PATCH their own customer record with If-Match', async () => {
      const url = `/customers/${shopper.customer.id}`;
      const etag = (await send(app, shopper, 'GET', url)).headers.etag as string;
      problem(await send(app, shopper, 'PATCH', url, { first_name: 'X' }, { 'if-match': '"stale"' }), 412);
      const ok = await send(app, shopper, 'PATCH', url, { first_name: 'Ada' }, { 'if-match': etag });
      expect(ok.statusCode, ok.body).toBe(200);
    });

    it('changes a customer ETag when a linked contact goes away, so an old If-Match is refused', async () => {
      const contact = await aContact(app, caller);
      const customer = await aCustomer(app, caller, { contact_id: [contact.id] });
      const url = `/customers/${customer.id}`;
      const before = (await send(app, caller, 'GET', url)).headers.etag as string;
      await expectStatus(app, caller, 204, 'DELETE', `/contacts/${contact.id}`);
      const read = await send(app, caller, 'GET', url);
      expect(read.json()).toMatchObject({ contact_id: [] });
      expect(read.headers.etag).not.toBe(before);
      problem(await send(app, caller, 'PATCH', url, { first_name: 'Late' }, { 'if-match': before }), 412);
      expect((await send(app, caller, 'GET', url)).json()).toEqual(read.json());
    });

    it('gives the order answered by a cancel the ETag a later GET has', async () => {
      const order: Order = await anOrder(app, shopper, { items: [{ product_id: stocked.id, quantity: 1 }] });
      const cancelled = await send(app, shopper, 'POST', `/orders/${order.id}/cancel`);
      expect(cancelled.headers.etag).toMatch(STRONG_ETAG);
      expect((await send(app, shopper, 'GET', `/orders/${order.id}`)).headers.etag).toBe(cancelled.headers.etag);
    });
  });
});
