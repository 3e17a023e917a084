import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../app.js';
import { createTestApp } from '../../../test/app.js';
import {
  aContact,
  aCustomer,
  anOrder,
  aProduct,
  contactFields,
  expectStatus,
  type Contact,
  type Customer,
  type Order,
  type Product,
} from '../../../test/factories.js';
import { send, staff, type Caller } from '../../../test/http.js';

type Json = Record<string, unknown>;
const MISSING_ID = 2_147_483_647;

/** Asserts a problem+json answer with the given status and returns its field errors. */
function problemErrors(response: LightMyRequestResponse, status: number) {
  expect(response.statusCode, response.body).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = response.json<{ status: number; errors?: { field: string; message: string }[] }>();
  expect(body.status).toBe(status);
  return body.errors ?? [];
}

describe('orders', () => {
  let app: App;
  let caller: Caller;
  beforeAll(async () => {
    app = await createTestApp();
    caller = await staff(app);
  });
  afterAll(async () => app.close());

  /** Every order a list URL leads to, following the Link header, one array per page. */
  async function allPages(url: string) {
    const pages: Order[][] = [];
    let next: string | undefined = url;
    while (next) {
      const response = await send(app, caller, 'GET', next);
      expect(response.statusCode, response.body).toBe(200);
      pages.push(response.json());
      const link = response.headers.link as string | undefined;
      next = link ? /^<([^>]+)>; rel="next"$/.exec(link)?.[1] : undefined;
      if (link) expect(next, link).toBeDefined();
      expect(pages.length).toBeLessThan(100);
    }
    return pages;
  }

  const orderIds = async () => (await allPages('/orders?limit=200')).flat().map((o) => o.id);
  const stockOf = async (product: Product) =>
    (await expectStatus<Product>(app, caller, 200, 'GET', `/products/${product.id}`)).stock;

  /** A customer with one linked contact. */
  async function customerWithContact(): Promise<{ customer: Customer; contact: Contact }> {
    const contact = await aContact(app, caller, { address_line2: 'Flat 3', state: 'IL' });
    const customer = await aCustomer(app, caller, { contact_id: [contact.id] });
    return { customer, contact };
  }

  describe('placing an order', () => {
    it('answers 201 with a Location, a pending order priced from the products, and takes the stock', async () => {
      const { customer, contact } = await customerWithContact();
      const mug = await aProduct(app, caller, { price: 1250, stock: 10 });
      const plate = await aProduct(app, caller, { price: 399, stock: 5 });
      const response = await send(app, caller, 'POST', '/orders', {
        customer_id: customer.id,
        shipping_contact_id: contact.id,
        items: [
          { product_id: mug.id, quantity: 2 },
          { product_id: plate.id, quantity: 3 },
        ],
      });
      expect(response.statusCode, response.body).toBe(201);
      const order = response.json<Order>();
      expect(response.headers.location).toBe(`/orders/${order.id}`);
      expect(order).toMatchObject({
        customer_id: customer.id,
        status: 'pending',
        shipping_contact_id: contact.id,
        shipping_address: contactFields({ address_line2: 'Flat 3', state: 'IL' }),
        subtotal: 2 * 1250 + 3 * 399,
        total: 2 * 1250 + 3 * 399,
        currency: 'USD',
        items: [
          { id: expect.any(Number), product_id: mug.id, quantity: 2, unit_price: 1250, line_total: 2500 },
          { id: expect.any(Number), product_id: plate.id, quantity: 3, unit_price: 399, line_total: 1197 },
        ],
      });
      expect(await stockOf(mug)).toBe(8);
      expect(await stockOf(plate)).toBe(2);
      expect(await expectStatus(app, caller, 200, 'GET', `/orders/${order.id}`)).toEqual(order);
    });

    it('keeps the ordered price and shipping address when the product and the contact change later', async () => {
      const { customer, contact } = await customerWithContact();
      const product = await aProduct(app, caller, { price: 1000 });
      const order = await anOrder(app, caller, {
        customer_id: customer.id,
        shipping_contact_id: contact.id,
        items: [{ product_id: product.id, quantity: 1 }],
      });
      await expectStatus(app, caller, 200, 'PATCH', `/products/${product.id}`, { price: 5000 });
      await expectStatus(app, caller, 200, 'PATCH', `/contacts/${contact.id}`, { city: 'Shelbyville' });
      const reread = await expectStatus<Order>(app, caller, 200, 'GET', `/orders/${order.id}`);
      expect(reread).toEqual(order);
      expect(reread).toMatchObject({ subtotal: 1000, shipping_address: { city: 'Springfield' } });
    });

    it('has a null shipping address without shipping_contact_id, and takes the currency from the products', async () => {
      const customer = await aCustomer(app, caller);
      const product = await aProduct(app, caller, { price: 700, currency: 'EUR' });
      const order = await anOrder(app, caller, {
        customer_id: customer.id,
        items: [{ product_id: product.id, quantity: 4 }],
      });
      expect(order).toMatchObject({ shipping_contact_id: null, shipping_address: null, currency: 'EUR' });
      expect(order).toMatchObject({ subtotal: 2800, total: 2800 });
    });
  });

  describe('refusing an order changes nothing', () => {
    let customer: Customer;
    let contact: Contact;
    let plenty: Product;
    let scarce: Product;
    let empty: Product;
    let spare: Product;
    let euro: Product;
    let archived: Product;
    beforeAll(async () => {
      ({ customer, contact } = await customerWithContact());
      plenty = await aProduct(app, caller, { stock: 50 });
      scarce = await aProduct(app, caller, { stock: 2 });
      empty = await aProduct(app, caller, { stock: 0 });
      spare = await aProduct(app, caller, { stock: 9 });
      euro = await aProduct(app, caller, { stock: 50, currency: 'EUR' });
      archived = await aProduct(app, caller, { stock: 50, active: false });
    });

    const item = (product: Product, quantity: unknown = 1) => ({ product_id: product.id, quantity });

    /** Sends an order that must be refused, and checks that no stock moved and no order appeared. */
    async function refused(payload: Json, status: number) {
      const products = [plenty, scarce, empty, spare, euro, archived];
      const stocks = await Promise.all(products.map(stockOf));
      const before = await orderIds();
      const errors = problemErrors(await send(app, caller, 'POST', '/orders', payload), status);
      expect(await Promise.all(products.map(stockOf))).toEqual(stocks);
      expect(await orderIds()).toEqual(before);
      return errors.map((e) => e.field);
    }

    it('answers 409 with an errors entry for exactly the one short item among several', async () => {
      const payload = { customer_id: customer.id, items: [item(plenty, 5), item(scarce, 3), item(spare, 2)] };
      expect(await refused(payload, 409)).toEqual(['items[1].product_id']);
    });

    it('answers 409 naming every short item, in item order, whatever the product ids', async () => {
      const items = [item(empty, 1), item(plenty, 1), item(scarce, 3)];
      expect(await refused({ customer_id: customer.id, items }, 409)).toEqual([
        'items[0].product_id',
        'items[2].product_id',
      ]);
    });

    it.each<[string, () => Json, number, string]>([
      [
        'an unknown product',
        () => ({ items: [item(plenty), { product_id: MISSING_ID, quantity: 1 }] }),
        400,
        'items[1].product_id',
      ],
      ['an unknown customer', () => ({ customer_id: MISSING_ID }), 400, 'customer_id'],
      ['a contact not linked to the customer', () => ({ shipping_contact_id: MISSING_ID }), 400, 'shipping_contact_id'],
      ['products in two currencies', () => ({ items: [item(plenty), item(euro)] }), 400, 'items[1].product_id'],
      [
        'the same product twice',
        () => ({ items: [item(plenty), item(scarce), item(plenty)] }),
        400,
        'items[2].product_id',
      ],
      ['no items', () => ({ items: [] }), 400, 'items'],
      ['quantity 0', () => ({ items: [item(plenty, 0)] }), 400, 'items[0].quantity'],
      ['quantity 1001', () => ({ items: [item(plenty, 1001)] }), 400, 'items[0].quantity'],
      ['quantity "2" as a string', () => ({ items: [item(plenty, '2')] }), 400, 'items[0].quantity'],
      ['a missing customer_id', () => ({ customer_id: undefined }), 400, 'customer_id'],
      ['an unknown field', () => ({ coupon: 'FREE' }), 400, 'coupon'],
      ['an archived product', () => ({ items: [item(plenty), item(archived)] }), 409, 'items[1].product_id'],
    ])('refuses %s, naming the field', async (_label, overrides, status, field) => {
      const payload = {
        customer_id: customer.id,
        shipping_contact_id: contact.id,
        items: [item(plenty)],
        ...overrides(),
      };
      expect(await refused(payload, status)).toContain(field);
    });

    it('refuses a contact that exists but belongs to nobody or to another customer', async () => {
      const stranger = await aContact(app, caller);
      const other = await customerWithContact();
      for (const contactId of [stranger.id, other.contact.id]) {
        const payload = { customer_id: customer.id, shipping_contact_id: contactId, items: [item(plenty)] };
        expect(await refused(payload, 400)).toEqual(['shipping_contact_id']);
      }
    });
  });

  describe('reading orders', () => {
    let alice: Customer;
    let bob: Customer;
    let aliceOrders: Order[];
    let bobOrders: Order[];
    beforeAll(async () => {
      alice = await aCustomer(app, caller);
      bob = await aCustomer(app, caller);
      const product = await aProduct(app, caller, { stock: 100, price: 250 });
      const place = (customer: Customer, quantity: number) =>
        anOrder(app, caller, { customer_id: customer.id, items: [{ product_id: product.id, quantity }] });
      aliceOrders = [];
      bobOrders = [];
      for (let i = 1; i <= 5; i++) {
        aliceOrders.push(await place(alice, i));
        if (i <= 2) bobOrders.push(await place(bob, i));
      }
    });

    it('shows one order with its items, 404 for an unknown id and 400 for a non-numeric id', async () => {
      const order = aliceOrders[2]!;
      const read = await expectStatus<Order>(app, caller, 200, 'GET', `/orders/${order.id}`);
      expect(read).toEqual(order);
      expect(read.items).toEqual([expect.objectContaining({ quantity: 3, unit_price: 250, line_total: 750 })]);
      problemErrors(await send(app, caller, 'GET', `/orders/${MISSING_ID}`), 404);
      expect(problemErrors(await send(app, caller, 'GET', '/orders/abc'), 400).map((e) => e.field)).toEqual(['id']);
    });

    it('lists orders filtered by customer_id, oldest first, paging through the Link header', async () => {
      const pages = await allPages(`/orders?customer_id=${alice.id}&limit=2`);
      expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
      expect(pages.flat()).toEqual(aliceOrders);
      expect(await expectStatus(app, caller, 200, 'GET', `/orders?customer_id=${bob.id}`)).toEqual(bobOrders);
    });

    it('keeps the filters in the Link header of every page', async () => {
      const response = await send(app, caller, 'GET', `/orders?customer_id=${alice.id}&status=pending&limit=1`);
      const link = String(response.headers.link);
      expect(link).toMatch(/^<\/orders\?[^>]*cursor=[^>]+>; rel="next"$/);
      expect(link).toContain(`customer_id=${alice.id}`);
      expect(link).toContain('status=pending');
      expect(link).toContain('limit=1');
    });

    it('lists every order exactly once across pages of the unfiltered list', async () => {
      const all = (await allPages('/orders?limit=200')).flat();
      const paged = (await allPages('/orders?limit=3')).flat();
      expect(paged.map((o) => o.id)).toEqual(all.map((o) => o.id));
      expect(new Set(paged.map((o) => o.id)).size).toBe(paged.length);
      expect(all.map((o) => o.id)).toEqual(expect.arrayContaining([...aliceOrders, ...bobOrders].map((o) => o.id)));
    });

    it('filters by status', async () => {
      const pending = (await allPages(`/orders?status=pending&customer_id=${bob.id}`)).flat();
      expect(pending).toEqual(bobOrders);
      expect(await expectStatus(app, caller, 200, 'GET', `/orders?status=shipped&customer_id=${bob.id}`)).toEqual([]);
    });

    it('answers 400 naming the parameter for a bad status, limit, customer_id, cursor or an unknown parameter', async () => {
      for (const [url, field] of [
        ['/orders?status=lost', 'status'],
        ['/orders?limit=201', 'limit'],
        ['/orders?limit=abc', 'limit'],
        ['/orders?customer_id=abc', 'customer_id'],
        ['/orders?cursor=garbage', 'cursor'],
        ['/orders?colour=blue', 'colour'],
      ]) {
        expect(problemErrors(await send(app, caller, 'GET', url!), 400).map((e) => e.field)).toContain(field);
      }
    });

    it("lists a customer's orders under /customers/{id}/orders, paged and filtered by status", async () => {
      const pages = await allPages(`/customers/${alice.id}/orders?limit=2`);
      expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
      expect(pages.flat()).toEqual(aliceOrders);
      const url = `/customers/${bob.id}/orders?status=pending`;
      expect(await expectStatus(app, caller, 200, 'GET', url)).toEqual(bobOrders);
      expect(await expectStatus(app, caller, 200, 'GET', `/customers/${bob.id}/orders?status=paid`)).toEqual([]);
    });

    it('answers 404 for the orders of an unknown customer', async () => {
      problemErrors(await send(app, caller, 'GET', `/customers/${MISSING_ID}/orders`), 404);
    });
  });
});
