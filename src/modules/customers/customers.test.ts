import { eq } from 'drizzle-orm';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../app.js';
import { customerContacts, customers } from '../../db/schema/index.js';
import { verifyPassword } from '../../lib/passwords.js';
import { createTestApp } from '../../../test/app.js';
import { aContact, aCustomer, anOrder, aProduct, customerFields, expectStatus } from '../../../test/factories.js';
import type { Customer } from '../../../test/factories.js';
import { anonymous, send, staff, type Caller } from '../../../test/http.js';

type Json = Record<string, unknown>;
const CUSTOMER_KEYS = [
  'contact_id',
  'created_at',
  'email_id',
  'first_name',
  'id',
  'last_name',
  'updated_at',
  'username',
];

let app: App;
let caller: Caller;

beforeAll(async () => {
  app = await createTestApp();
  caller = await staff(app);
});
afterAll(async () => app.close());

/** Checks a problem+json answer and returns its body; `fields` must all be named in `errors`. */
function expectProblem(response: LightMyRequestResponse, status: number, fields: string[] = []) {
  expect(response.statusCode, response.body).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = response.json();
  expect(body).toMatchObject({ status, code: expect.any(String), detail: expect.any(String) });
  if (fields.length > 0) {
    for (const error of body.errors) expect(error).toEqual({ field: expect.any(String), message: expect.any(String) });
    expect(body.errors.map((e: Json) => e.field)).toEqual(expect.arrayContaining(fields));
  }
  return body;
}

const nextUrl = (response: LightMyRequestResponse) =>
  /^<([^>]+)>; rel="next"$/.exec(String(response.headers.link ?? ''))?.[1];

async function listAll(path: string): Promise<Json[]> {
  const items: Json[] = [];
  for (let url: string | undefined = `${path}?limit=200`; url;) {
    const response = await send(app, caller, 'GET', url);
    expect(response.statusCode).toBe(200);
    items.push(...response.json<Json[]>());
    url = nextUrl(response);
  }
  return items;
}

const listedUsernames = async () => (await listAll('/customers')).map((c) => String(c.username).toLowerCase());
const getCustomer = (id: number) => expectStatus<Customer>(app, caller, 200, 'GET', `/customers/${id}`);

describe('creating a customer', () => {
  it('answers 201 with a Location and exactly the public fields, never the password or its hash', async () => {
    const fields = customerFields();
    const response = await send(app, caller, 'POST', '/customers', fields);
    expect(response.statusCode).toBe(201);
    const body = response.json();
    expect(response.headers.location).toBe(`/customers/${body.id}`);
    expect(Object.keys(body).sort()).toEqual(CUSTOMER_KEYS);
    expect(body).toMatchObject({
      username: fields.username,
      email_id: fields.email_id,
      first_name: 'Ada',
      last_name: 'Lovelace',
      contact_id: [],
    });
    expect(response.body).not.toContain(fields.password);
    expect(response.body).not.toMatch(/scrypt|hash/i);
    expect(await getCustomer(body.id)).toEqual(body);
  });

  it('lets an anonymous visitor sign up', async () => {
    const response = await send(app, anonymous, 'POST', '/customers', customerFields());
    expect(response.statusCode).toBe(201);
  });

  it('links the contacts named in contact_id', async () => {
    const [a, b] = [await aContact(app, caller), await aContact(app, caller)];
    const customer = await aCustomer(app, caller, { contact_id: [b.id, a.id] });
    expect([...customer.contact_id].sort((x, y) => x - y)).toEqual([a.id, b.id]);
  });

  it('accepts the shortest and longest allowed values', async () => {
    const tag = Math.random().toString(36).slice(2, 8);
    await aCustomer(app, caller, { username: `a.${tag}`.slice(0, 3), password: '12345678', first_name: 'A' });
    await aCustomer(app, caller, { username: `${tag}_`.padEnd(50, 'x'), password: 'p'.repeat(128) });
    await aCustomer(app, caller, { first_name: 'N'.repeat(100), last_name: 'L'.repeat(100) });
  });

  it('answers 409 naming username when it is taken regardless of case, and creates nothing', async () => {
    const existing = await aCustomer(app, caller);
    const fields = customerFields({ username: existing.username.toUpperCase() });
    const body = expectProblem(await send(app, caller, 'POST', '/customers', fields), 409, ['username']);
    expect(body.code).toBe('USERNAME_TAKEN');
    expect((await listAll('/customers')).map((c) => c.email_id)).not.toContain(fields.email_id);
  });

  it('answers 409 naming email_id when it is taken regardless of case, and creates nothing', async () => {
    const existing = await aCustomer(app, caller);
    const fields = customerFields({ email_id: existing.email_id.toUpperCase() });
    expectProblem(await send(app, caller, 'POST', '/customers', fields), 409, ['email_id']);
    expect(await listedUsernames()).not.toContain(fields.username.toLowerCase());
  });

  it('answers 400 naming contact_id[i] for each contact that does not exist, and creates nothing', async () => {
    const contact = await aContact(app, caller);
    const fields = customerFields({ contact_id: [contact.id, 999_999] });
    const body = expectProblem(await send(app, caller, 'POST', '/customers', fields), 400, ['contact_id[1]']);
    expect(body.errors).toHaveLength(1);
    expect(await listedUsernames()).not.toContain(fields.username.toLowerCase());
  });

  const long = (n: number) => 'x'.repeat(n);
  it.each([
    ['a username under 3 characters', { username: 'ab' }, 'username'],
    ['a username over 50 characters', { username: long(51) }, 'username'],
    ['a username with a space', { username: 'ada lovelace' }, 'username'],
    ['a username with a slash', { username: 'ada/love' }, 'username'],
    ['a number as username', { username: 12345 }, 'username'],
    ['an invalid email_id', { email_id: 'not-an-email' }, 'email_id'],
    ['a password under 8 characters', { password: '1234567' }, 'password'],
    ['a password over 128 characters', { password: long(129) }, 'password'],
    ['an empty first_name', { first_name: '' }, 'first_name'],
    ['a first_name over 100 characters', { first_name: long(101) }, 'first_name'],
    ['an empty last_name', { last_name: '' }, 'last_name'],
    ['a last_name over 100 characters', { last_name: long(101) }, 'last_name'],
    ['an unknown field', { nickname: 'ada' }, 'nickname'],
    ['a string where a contact id belongs', { contact_id: ['1'] }, 'contact_id[0]'],
    ['a contact id of 0', { contact_id: [0] }, 'contact_id[0]'],
    ['contact_id that is not an array', { contact_id: 1 }, 'contact_id'],
  ])('answers 400 for %s, and creates nothing', async (_name, overrides, field) => {
    const fields = customerFields(overrides);
    expectProblem(await send(app, caller, 'POST', '/customers', fields), 400, [field]);
    expect((await listAll('/customers')).map((c) => c.email_id)).not.toContain(fields.email_id);
  });

  it.each(['username', 'password', 'email_id', 'first_name', 'last_name'])(
    'answers 400 saying %s is required when it is missing',
    async (field) => {
      const fields: Json = customerFields();
      delete fields[field];
      const body = expectProblem(await send(app, caller, 'POST', '/customers', fields), 400, [field]);
      expect(body.errors).toContainEqual({ field, message: 'is required' });
    },
  );

  it('answers 400 for malformed JSON, 415 for a text/plain body and 413 for a body over 1 MiB', async () => {
    const before = (await listAll('/customers')).length;
    const json = { 'content-type': 'application/json' };
    expectProblem(await send(app, caller, 'POST', '/customers', '{"username": "ada",', json), 400);
    expectProblem(await send(app, caller, 'POST', '/customers', '[]', json), 400);
    const text = JSON.stringify(customerFields());
    expectProblem(await send(app, caller, 'POST', '/customers', text, { 'content-type': 'text/plain' }), 415);
    const huge = customerFields({ first_name: 'x'.repeat(1024 * 1024 + 1) });
    expectProblem(await send(app, caller, 'POST', '/customers', huge), 413);
    expect((await listAll('/customers')).length).toBe(before);
  });
});

describe('reading and listing customers', () => {
  it('answers 404 problem+json for a customer that does not exist', async () => {
    expectProblem(await send(app, caller, 'GET', '/customers/999999'), 404);
  });

  it.each(['abc', '0', '-1', '1.5', '2147483648'])('answers 400 naming id for /customers/%s', async (id) => {
    expectProblem(await send(app, caller, 'GET', `/customers/${id}`), 400, ['id']);
  });

  it('lists customers as an array, paging with limit and cursor via the Link header until none remain', async () => {
    const created = [];
    for (let i = 0; i < 5; i++) created.push((await aCustomer(app, caller)).id);
    const seen: number[] = [];
    let url: string | undefined = '/customers?limit=2';
    let pages = 0;
    while (url) {
      const response = await send(app, caller, 'GET', url);
      expect(response.statusCode).toBe(200);
      const page = response.json<Customer[]>();
      expect(Array.isArray(page)).toBe(true);
      expect(page.length).toBeLessThanOrEqual(2);
      for (const c of page) expect(Object.keys(c).sort()).toEqual(CUSTOMER_KEYS);
      seen.push(...page.map((c) => c.id));
      url = nextUrl(response);
      if (url) {
        expect(page).toHaveLength(2);
        expect(response.headers.link).toMatch(/rel="next"/);
        expect(url).toMatch(/limit=2/);
      }
      pages++;
    }
    expect(pages).toBeGreaterThanOrEqual(3);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining(created));
  });

  it('sends no Link header on the last page', async () => {
    const response = await send(app, caller, 'GET', '/customers?limit=200');
    expect(response.statusCode).toBe(200);
    expect(response.headers.link).toBeUndefined();
  });

  it.each([
    ['limit=201', 'limit'],
    ['limit=0', 'limit'],
    ['limit=abc', 'limit'],
    ['cursor=garbage!!', 'cursor'],
    [`cursor=${Buffer.from('["x"]').toString('base64url')}`, 'cursor'],
    ['colour=red', 'colour'],
  ])('answers 400 for the query %s', async (query, field) => {
    expectProblem(await send(app, caller, 'GET', `/customers?${query}`), 400, [field]);
  });
});

describe('updating a customer', () => {
  it.each([
    ['username', () => `new_${Math.random().toString(36).slice(2, 10)}`],
    ['email_id', () => `new_${Math.random().toString(36).slice(2, 10)}@example.org`],
    ['first_name', () => 'Grace'],
    ['last_name', () => 'Hopper'],
  ])('changes %s alone and keeps the change', async (field, value) => {
    const customer = await aCustomer(app, caller);
    const next = value();
    const updated = await expectStatus<Customer>(app, caller, 200, 'PATCH', `/customers/${customer.id}`, {
      [field]: next,
    });
    expect(updated).toEqual({ ...customer, [field]: next, updated_at: expect.any(String) });
    expect(Date.parse(String(updated.updated_at))).toBeGreaterThanOrEqual(Date.parse(String(customer.updated_at)));
    expect(await getCustomer(customer.id)).toEqual(updated);
  });

  it('changes the password without ever showing it', async () => {
    const customer = await aCustomer(app, caller);
    const response = await send(app, caller, 'PATCH', `/customers/${customer.id}`, { password: 'a brand new secret' });
    expect(response.statusCode).toBe(200);
    expect(Object.keys(response.json()).sort()).toEqual(CUSTOMER_KEYS);
    expect(response.body).not.toContain('a brand new secret');
    const [row] = await app.database.db
      .select({ hash: customers.passwordHash })
      .from(customers)
      .where(eq(customers.id, customer.id));
    expect(await verifyPassword('a brand new secret', row!.hash!)).toBe(true);
  });

  it('replaces the linked contacts with contact_id, and an empty list unlinks them all', async () => {
    const [a, b, c] = [await aContact(app, caller), await aContact(app, caller), await aContact(app, caller)];
    const customer = await aCustomer(app, caller, { contact_id: [a.id, b.id] });
    const path = `/customers/${customer.id}`;
    const updated = await expectStatus<Customer>(app, caller, 200, 'PATCH', path, { contact_id: [c.id, b.id] });
    expect([...updated.contact_id].sort((x, y) => x - y)).toEqual([b.id, c.id]);
    const linked = await expectStatus<Json[]>(app, caller, 200, 'GET', `${path}/contacts`);
    expect(linked.map((l) => l.id)).toEqual([b.id, c.id]);
    expect((await expectStatus<Customer>(app, caller, 200, 'PATCH', path, { contact_id: [] })).contact_id).toEqual([]);
    expect((await getCustomer(customer.id)).contact_id).toEqual([]);
  });

  it('answers 409 when the new username or email_id belongs to someone else in any case, and changes nothing', async () => {
    const other = await aCustomer(app, caller);
    const customer = await aCustomer(app, caller);
    const path = `/customers/${customer.id}`;
    const takenName = { username: other.username.toUpperCase(), first_name: 'Changed' };
    expectProblem(await send(app, caller, 'PATCH', path, takenName), 409, ['username']);
    const takenEmail = { email_id: other.email_id.toUpperCase(), last_name: 'Changed' };
    expectProblem(await send(app, caller, 'PATCH', path, takenEmail), 409, ['email_id']);
    expect(await getCustomer(customer.id)).toEqual(customer);
  });

  it('answers 400 naming contact_id[i] for a contact that does not exist, and keeps the old links', async () => {
    const contact = await aContact(app, caller);
    const customer = await aCustomer(app, caller, { contact_id: [contact.id] });
    const body = { contact_id: [999_998, contact.id], first_name: 'Changed' };
    expectProblem(await send(app, caller, 'PATCH', `/customers/${customer.id}`, body), 400, ['contact_id[0]']);
    expect(await getCustomer(customer.id)).toEqual(customer);
  });

  it.each([
    ['an empty body', {}, 'body'],
    ['an unknown field', { nickname: 'x' }, 'nickname'],
    ['a short username', { username: 'ab' }, 'username'],
    ['a short password', { password: 'short' }, 'password'],
    ['an invalid email_id', { email_id: 'nope' }, 'email_id'],
    ['an empty last_name', { last_name: '' }, 'last_name'],
    ['a null first_name', { first_name: null }, 'first_name'],
    ['a string contact id', { contact_id: ['1'] }, 'contact_id[0]'],
  ])('answers 400 for %s, and changes nothing', async (_name, patch, field) => {
    const customer = await aCustomer(app, caller);
    expectProblem(await send(app, caller, 'PATCH', `/customers/${customer.id}`, patch), 400, [field]);
    expect(await getCustomer(customer.id)).toEqual(customer);
  });

  it('answers 404 for a customer that does not exist and 400 for a malformed id', async () => {
    expectProblem(await send(app, caller, 'PATCH', '/customers/999999', { first_name: 'X' }), 404);
    expectProblem(await send(app, caller, 'PATCH', '/customers/abc', { first_name: 'X' }), 400, ['id']);
  });
});

describe('deleting a customer', () => {
  it('answers 204, then 404 on every read and on a second delete, and drops them from the list', async () => {
    const customer = await aCustomer(app, caller);
    await expectStatus(app, caller, 204, 'DELETE', `/customers/${customer.id}`);
    expectProblem(await send(app, caller, 'GET', `/customers/${customer.id}`), 404);
    expectProblem(await send(app, caller, 'GET', `/customers/${customer.id}/contacts`), 404);
    expectProblem(await send(app, caller, 'DELETE', `/customers/${customer.id}`), 404);
    expectProblem(await send(app, caller, 'PATCH', `/customers/${customer.id}`, { first_name: 'X' }), 404);
    expect((await listAll('/customers')).map((c) => c.id)).not.toContain(customer.id);
  });

  it('answers 400 for a malformed id', async () => {
    expectProblem(await send(app, caller, 'DELETE', '/customers/abc'), 400, ['id']);
    expectProblem(await send(app, caller, 'DELETE', '/customers/0'), 400, ['id']);
  });

  it('removes a customer who has orders, keeps the order and its address, and frees the username', async () => {
    const contact = await aContact(app, caller, { address_line1: '1 Order Lane' });
    const customer = await aCustomer(app, caller, { contact_id: [contact.id] });
    const product = await aProduct(app, caller);
    const order = await anOrder(app, caller, {
      customer_id: customer.id,
      items: [{ product_id: product.id, quantity: 1 }],
      shipping_contact_id: contact.id,
    });
    expect(order.shipping_address).toMatchObject({ address_line1: '1 Order Lane' });

    await expectStatus(app, caller, 204, 'DELETE', `/customers/${customer.id}`);
    expectProblem(await send(app, caller, 'GET', `/customers/${customer.id}`), 404);
    expect((await listAll('/customers')).map((c) => c.id)).not.toContain(customer.id);
    expectProblem(await send(app, caller, 'DELETE', `/customers/${customer.id}/contacts/${contact.id}`), 404);
    const links = await app.database.db
      .select()
      .from(customerContacts)
      .where(eq(customerContacts.customerId, customer.id));
    expect(links).toEqual([]);
    expect(await expectStatus(app, caller, 200, 'GET', `/contacts/${contact.id}`)).toEqual(contact);
    expect(await expectStatus(app, caller, 200, 'GET', `/orders/${order.id}`)).toEqual(order);

    const again = await aCustomer(app, caller, { username: customer.username, email_id: customer.email_id });
    expect(again.id).not.toBe(customer.id);
  });
});

describe("a customer's contact links", () => {
  it('links with PUT (204, idempotent) and lists the contact under the customer', async () => {
    const customer = await aCustomer(app, caller);
    const contact = await aContact(app, caller);
    const path = `/customers/${customer.id}/contacts/${contact.id}`;
    await expectStatus(app, caller, 204, 'PUT', path);
    await expectStatus(app, caller, 204, 'PUT', path);
    expect((await getCustomer(customer.id)).contact_id).toEqual([contact.id]);
    expect(await expectStatus(app, caller, 200, 'GET', `/customers/${customer.id}/contacts`)).toEqual([contact]);
  });

  it('unlinks with DELETE (204, then 404), leaving the contact itself in place', async () => {
    const contact = await aContact(app, caller);
    const customer = await aCustomer(app, caller, { contact_id: [contact.id] });
    const path = `/customers/${customer.id}/contacts/${contact.id}`;
    await expectStatus(app, caller, 204, 'DELETE', path);
    expect((await getCustomer(customer.id)).contact_id).toEqual([]);
    expectProblem(await send(app, caller, 'DELETE', path), 404);
    expect(await expectStatus(app, caller, 200, 'GET', `/contacts/${contact.id}`)).toEqual(contact);
  });

  it('answers 404 for an unknown customer or contact in the link path, and links nothing', async () => {
    const customer = await aCustomer(app, caller);
    const contact = await aContact(app, caller);
    for (const method of ['PUT', 'DELETE'] as const) {
      expectProblem(await send(app, caller, method, `/customers/${customer.id}/contacts/999999`), 404);
      expectProblem(await send(app, caller, method, `/customers/999999/contacts/${contact.id}`), 404);
      expectProblem(await send(app, caller, method, `/customers/${customer.id}/contacts/abc`), 400, ['contact_id']);
    }
    expect((await getCustomer(customer.id)).contact_id).toEqual([]);
  });

  it("pages a customer's contacts and answers 404 for an unknown customer", async () => {
    const [a, b] = [await aContact(app, caller), await aContact(app, caller)];
    const customer = await aCustomer(app, caller, { contact_id: [a.id, b.id] });
    const first = await send(app, caller, 'GET', `/customers/${customer.id}/contacts?limit=1`);
    expect(first.json()).toEqual([a]);
    const last = await send(app, caller, 'GET', nextUrl(first)!);
    expect(last.json()).toEqual([b]);
    expect(last.headers.link).toBeUndefined();
    expectProblem(await send(app, caller, 'GET', '/customers/999999/contacts'), 404);
  });
});
