import { randomBytes } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../app.js';
import { createTestApp } from '../../../test/app.js';
import { aCustomer, anOrder, aProduct, expectStatus, productFields, type Product } from '../../../test/factories.js';
import { anonymous, send, staff, type Caller } from '../../../test/http.js';

const tag = () => randomBytes(4).toString('hex');
const query = (params: Record<string, string | number | boolean>) =>
  new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)])).toString();

/** Asserts a problem+json answer with the given status and returns its body. */
function problem(response: LightMyRequestResponse, status: number) {
  expect(response.statusCode, response.body).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = response.json();
  expect(body).toMatchObject({ status });
  return body as { code: string; errors?: { field: string; message: string }[] };
}

function expectFieldError(response: LightMyRequestResponse, status: number, field: string) {
  const body = problem(response, status);
  expect(body.errors).toEqual(expect.arrayContaining([{ field, message: expect.any(String) }]));
  return body;
}

describe('products', () => {
  let app: App;
  let caller: Caller;
  beforeAll(async () => {
    app = await createTestApp();
    caller = await staff(app);
  });
  afterAll(async () => app.close());

  /** Every product a list URL leads to, following the Link header page by page. */
  async function allPages(url: string, who: Caller = caller) {
    const pages: Product[][] = [];
    let next: string | undefined = url;
    while (next) {
      const response = await send(app, who, 'GET', next);
      expect(response.statusCode, response.body).toBe(200);
      pages.push(response.json());
      const link = response.headers.link as string | undefined;
      next = link ? /^<([^>]+)>; rel="next"$/.exec(link)?.[1] : undefined;
      if (link) expect(next, link).toBeDefined();
      expect(pages.length).toBeLessThan(50);
    }
    return pages;
  }

  const skusMatching = async (q: string) =>
    (await expectStatus<Product[]>(app, caller, 200, 'GET', `/products?${query({ q, include_archived: true })}`)).map(
      (p) => p.sku,
    );

  describe('creating', () => {
    it('answers 201 with a Location, the price in minor units, USD, stock 0 and active by default', async () => {
      const sku = `MUG-${tag()}`;
      const response = await send(app, caller, 'POST', '/products', { sku, name: 'Blue mug', price: 1999 });
      expect(response.statusCode, response.body).toBe(201);
      const product = response.json<Product>();
      expect(response.headers.location).toBe(`/products/${product.id}`);
      expect(product).toMatchObject({ sku, name: 'Blue mug', description: null, price: 1999, currency: 'USD' });
      expect(product).toMatchObject({ stock: 0, active: true });
      expect(await expectStatus(app, caller, 200, 'GET', `/products/${product.id}`)).toEqual(product);
    });

    it('keeps the currency, stock, description and active flag it is given', async () => {
      const product = await aProduct(app, caller, { currency: 'EUR', stock: 7, description: 'Tall', active: false });
      expect(product).toMatchObject({ currency: 'EUR', stock: 7, description: 'Tall', active: false });
    });

    it.each(['sku', 'name', 'price'])(
      'answers 400 naming %s when it is missing, and creates nothing',
      async (field) => {
        const fields: Record<string, unknown> = productFields();
        delete fields[field];
        expectFieldError(await send(app, caller, 'POST', '/products', fields), 400, field);
        if (field !== 'sku') expect(await skusMatching(String(fields.sku))).toEqual([]);
      },
    );

    it.each([
      ['a price sent as the string "19.99"', { price: '19.99' }, 'price'],
      ['a fractional price 19.99', { price: 19.99 }, 'price'],
      ['a negative price', { price: -1 }, 'price'],
      ['a negative stock', { stock: -1 }, 'stock'],
      ['a lowercase currency "usd"', { currency: 'usd' }, 'currency'],
      ['an unknown currency "XYZ"', { currency: 'XYZ' }, 'currency'],
      ['an unknown field', { colour: 'blue' }, 'colour'],
      ['an empty name', { name: '' }, 'name'],
      ['a sku with spaces', { sku: 'has space' }, 'sku'],
    ])('answers 400 naming the field for %s, and creates nothing', async (_label, overrides, field) => {
      const fields = productFields(overrides);
      expectFieldError(await send(app, caller, 'POST', '/products', fields), 400, field);
      if (field !== 'sku') expect(await skusMatching(fields.sku)).toEqual([]);
    });

    it('answers 409 naming sku when the sku is taken, and leaves the first product as it was', async () => {
      const first = await aProduct(app, caller, { name: 'First' });
      const response = await send(app, caller, 'POST', '/products', productFields({ sku: first.sku, name: 'Second' }));
      expectFieldError(response, 409, 'sku');
      expect(await expectStatus(app, caller, 200, 'GET', `/products/${first.id}`)).toEqual(first);
      expect(await skusMatching(first.sku)).toEqual([first.sku]);
    });
  });

  describe('reading, changing and deleting one product', () => {
    it('shows a product to staff and to anonymous visitors', async () => {
      const product = await aProduct(app, caller);
      expect(await expectStatus(app, caller, 200, 'GET', `/products/${product.id}`)).toEqual(product);
      expect(await expectStatus(app, anonymous, 200, 'GET', `/products/${product.id}`)).toEqual(product);
    });

    it('answers 404 for a product that does not exist and 400 for an id that is not a number', async () => {
      problem(await send(app, caller, 'GET', '/products/2147483647'), 404);
      expectFieldError(await send(app, caller, 'GET', '/products/abc'), 400, 'id');
    });

    it('changes only the fields a PATCH names, and the change is visible afterwards', async () => {
      const product = await aProduct(app, caller, { price: 1000, stock: 3 });
      const patched = await expectStatus<Product>(app, caller, 200, 'PATCH', `/products/${product.id}`, {
        price: 1500,
        name: 'Renamed mug',
      });
      expect(patched).toMatchObject({ ...product, price: 1500, name: 'Renamed mug', updated_at: expect.any(String) });
      expect(await expectStatus(app, caller, 200, 'GET', `/products/${product.id}`)).toEqual(patched);
    });

    it('refuses a bad PATCH (invalid price, taken sku, empty body, unknown product) and changes nothing', async () => {
      const product = await aProduct(app, caller);
      const other = await aProduct(app, caller);
      const url = `/products/${product.id}`;
      expectFieldError(await send(app, caller, 'PATCH', url, { price: '19.99' }), 400, 'price');
      expectFieldError(await send(app, caller, 'PATCH', url, { currency: 'XYZ' }), 400, 'currency');
      expectFieldError(await send(app, caller, 'PATCH', url, { sku: other.sku }), 409, 'sku');
      problem(await send(app, caller, 'PATCH', url, {}), 400);
      problem(await send(app, caller, 'PATCH', '/products/2147483647', { price: 1 }), 404);
      expect(await expectStatus(app, caller, 200, 'GET', url)).toEqual(product);
    });

    it('deletes a product that was never ordered: 204, then 404', async () => {
      const product = await aProduct(app, caller);
      const response = await send(app, caller, 'DELETE', `/products/${product.id}`);
      expect(response.statusCode).toBe(204);
      expect(response.body).toBe('');
      problem(await send(app, caller, 'GET', `/products/${product.id}`), 404);
      problem(await send(app, caller, 'DELETE', `/products/${product.id}`), 404);
      expect(await skusMatching(product.sku)).toEqual([]);
    });

    it('archives a product that appears in an order: 204, still readable with active false, listed only on request', async () => {
      const product = await aProduct(app, caller, { name: `Archived ${tag()}` });
      const customer = await aCustomer(app, caller);
      await anOrder(app, caller, { customer_id: customer.id, items: [{ product_id: product.id, quantity: 1 }] });

      expect((await send(app, caller, 'DELETE', `/products/${product.id}`)).statusCode).toBe(204);
      const archived = await expectStatus<Product>(app, caller, 200, 'GET', `/products/${product.id}`);
      expect(archived).toMatchObject({ id: product.id, sku: product.sku, active: false });
      const listed = await expectStatus<Product[]>(app, caller, 200, 'GET', `/products?${query({ q: product.sku })}`);
      expect(listed).toEqual([]);
      const all = `/products?${query({ q: product.sku, include_archived: true })}`;
      expect((await expectStatus<Product[]>(app, caller, 200, 'GET', all)).map((p) => p.id)).toEqual([product.id]);
    });
  });

  describe('searching and filtering', () => {
    it('matches q against the name and against the sku, ignoring case', async () => {
      const t = tag();
      const byName = await aProduct(app, caller, { name: `Enamel Teapot ${t}` });
      const bySku = await aProduct(app, caller, { sku: `TP-${t}-X`, name: 'Unrelated' });
      const found = async (q: string) =>
        (await expectStatus<Product[]>(app, anonymous, 200, 'GET', `/products?${query({ q })}`)).map((p) => p.id);
      expect(await found(`teapot ${t.toUpperCase()}`)).toEqual([byName.id]);
      expect(await found(`tp-${t}-x`)).toEqual([bySku.id]);
      expect(await found(t)).toEqual([byName.id, bySku.id]);
    });

    it('takes % and _ in q literally, not as wildcards', async () => {
      const t = tag();
      const percent = await aProduct(app, caller, { name: `Shirt ${t} 100% cotton` });
      await aProduct(app, caller, { name: `Shirt ${t} 1000 cotton` });
      const underscore = await aProduct(app, caller, { name: `Cable ${t} a_b` });
      await aProduct(app, caller, { name: `Cable ${t} axb` });
      const found = async (q: string) =>
        (await expectStatus<Product[]>(app, caller, 200, 'GET', `/products?${query({ q })}`)).map((p) => p.id);
      expect(await found(`${t} 100%`)).toEqual([percent.id]);
      expect(await found(`${t} a_b`)).toEqual([underscore.id]);
    });
  });

  describe('listing a catalogue', () => {
    const words = [
      'Kite',
      'Anchor',
      'Globe',
      'Drum',
      'Lamp',
      'Bottle',
      'Harp',
      'Candle',
      'Jar',
      'Easel',
      'Flute',
      'Ink',
    ];
    const prices = [700, 300, 300, 1200, 50, 900, 300, 1500, 0, 650, 2000, 900];
    const stocks = [3, 0, 5, 1, 0, 8, 2, 0, 4, 6, 0, 9];
    let t: string;
    let catalogue: Product[];
    const ids = (list: Product[]) => list.map((p) => p.id);
    const by =
      <K extends 'price' | 'name' | 'created_at'>(field: K, direction: 1 | -1) =>
      (a: Product, b: Product) => {
        const [x, y] = [a[field] as string | number, b[field] as string | number];
        return (x < y ? -1 : x > y ? 1 : a.id - b.id) * direction;
      };
    const list = (params: Record<string, string | number | boolean>) =>
      expectStatus<Product[]>(app, caller, 200, 'GET', `/products?${query({ q: t, limit: 200, ...params })}`);

    beforeAll(async () => {
      t = tag();
      catalogue = [];
      for (const [i, word] of words.entries()) {
        catalogue.push(await aProduct(app, caller, { name: `Cat${t} ${word}`, price: prices[i], stock: stocks[i] }));
      }
    });

    it('filters by min_price and max_price inclusively', async () => {
      const expected = catalogue.filter((p) => p.price >= 300 && p.price <= 900).sort(by('price', 1));
      expect(ids(await list({ min_price: 300, max_price: 900, sort: 'price' }))).toEqual(ids(expected));
      expect(ids(await list({ min_price: 1500 }))).toEqual(ids(catalogue.filter((p) => p.price >= 1500)));
      expect(ids(await list({ max_price: 0 }))).toEqual(ids(catalogue.filter((p) => p.price === 0)));
    });

    it('answers 400 naming max_price when min_price is above max_price', async () => {
      const url = `/products?${query({ min_price: 901, max_price: 900 })}`;
      expectFieldError(await send(app, caller, 'GET', url), 400, 'max_price');
    });

    it('filters by in_stock=true and in_stock=false', async () => {
      expect(ids(await list({ in_stock: true }))).toEqual(ids(catalogue.filter((p) => p.stock > 0)));
      expect(ids(await list({ in_stock: false }))).toEqual(ids(catalogue.filter((p) => p.stock === 0)));
    });

    it.each(['price', 'name', 'created_at'] as const)('sorts by %s ascending and descending', async (field) => {
      expect(ids(await list({ sort: field }))).toEqual(ids([...catalogue].sort(by(field, 1))));
      expect(ids(await list({ sort: `-${field}` }))).toEqual(ids([...catalogue].sort(by(field, -1))));
    });

    it('accepts sort=-price, sort=price:desc and sort=price&order=desc alike', async () => {
      const expected = ids([...catalogue].sort(by('price', -1)));
      expect(ids(await list({ sort: '-price' }))).toEqual(expected);
      expect(ids(await list({ sort: 'price:desc' }))).toEqual(expected);
      expect(ids(await list({ sort: 'price', order: 'desc' }))).toEqual(expected);
    });

    it.each([
      ['price descending, in stock', { sort: '-price', in_stock: true }, by('price', -1), (p: Product) => p.stock > 0],
      ['name ascending, from 300', { sort: 'name', min_price: 300 }, by('name', 1), (p: Product) => p.price >= 300],
      ['created_at descending', { sort: 'created_at:desc' }, by('created_at', -1), () => true],
      ['price ascending (ties on 300 and 900)', { sort: 'price' }, by('price', 1), () => true],
    ] as const)(
      'pages by %s through the Link header, every match once and in order',
      async (_l, params, sort, keep) => {
        const pages = await allPages(`/products?${query({ q: t, limit: 2, ...params })}`);
        const expected = ids(catalogue.filter(keep).sort(sort));
        expect(pages.length).toBe(Math.ceil(expected.length / 2));
        for (const page of pages) expect(page.length).toBeLessThanOrEqual(2);
        expect(ids(pages.flat())).toEqual(expected);
      },
    );

    it('shows the catalogue to anonymous visitors too', async () => {
      const pages = await allPages(`/products?${query({ q: t, limit: 5 })}`, anonymous);
      expect(ids(pages.flat())).toEqual(ids(catalogue));
    });

    it('answers 400 naming the parameter for a bad limit, an unknown parameter or a bad sort', async () => {
      expectFieldError(await send(app, caller, 'GET', '/products?limit=201'), 400, 'limit');
      expectFieldError(await send(app, caller, 'GET', '/products?limit=abc'), 400, 'limit');
      expectFieldError(await send(app, caller, 'GET', '/products?limit=0'), 400, 'limit');
      expectFieldError(await send(app, caller, 'GET', '/products?colour=blue'), 400, 'colour');
      expectFieldError(await send(app, caller, 'GET', '/products?sort=stock'), 400, 'sort');
      expectFieldError(await send(app, caller, 'GET', '/products?in_stock=maybe'), 400, 'in_stock');
    });

    it('answers 400 naming cursor when a cursor from one sort is reused with another, or is garbage', async () => {
      const first = await send(app, caller, 'GET', `/products?${query({ q: t, limit: 2, sort: 'price' })}`);
      const cursor = new URLSearchParams(/<([^>]+)>/.exec(String(first.headers.link))![1]!.split('?')[1]).get('cursor');
      expect(cursor).toBeTruthy();
      for (const sort of ['name', '-price', 'created_at']) {
        const url = `/products?${query({ q: t, limit: 2, sort, cursor: cursor! })}`;
        expectFieldError(await send(app, caller, 'GET', url), 400, 'cursor');
      }
      expectFieldError(await send(app, caller, 'GET', '/products?cursor=not-a-cursor'), 400, 'cursor');
    });
  });
});
