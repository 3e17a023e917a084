import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../app.js';
import { createTestApp } from '../../../test/app.js';
import { aContact, aCustomer, anOrder, aProduct, contactFields, expectStatus } from '../../../test/factories.js';
import type { Contact, Customer, Order } from '../../../test/factories.js';
import { send, staff, type Caller } from '../../../test/http.js';

type Json = Record<string, unknown>;
const CONTACT_KEYS = [
  'address_line1',
  'address_line2',
  'city',
  'country',
  'created_at',
  'id',
  'phone_number',
  'postal_code',
  'state',
  'updated_at',
];
const OPTIONAL_FIELDS = ['address_line2', 'state', 'postal_code', 'country', 'phone_number'];

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

async function allContacts(): Promise<Contact[]> {
  const items: Contact[] = [];
  for (let url: string | undefined = '/contacts?limit=200'; url;) {
    const response = await send(app, caller, 'GET', url);
    expect(response.statusCode).toBe(200);
    items.push(...response.json<Contact[]>());
    url = nextUrl(response);
  }
  return items;
}

const getContact = (id: number) => expectStatus<Contact>(app, caller, 200, 'GET', `/contacts/${id}`);
const getCustomer = (id: number) => expectStatus<Customer>(app, caller, 200, 'GET', `/customers/${id}`);

describe('creating a contact', () => {
  it('answers 201 with a Location, needing only address_line1 and city, and returns the others as null', async () => {
    const response = await send(app, caller, 'POST', '/contacts', { address_line1: '1 Main St', city: 'Lyon' });
    expect(response.statusCode).toBe(201);
    const body = response.json();
    expect(response.headers.location).toBe(`/contacts/${body.id}`);
    expect(Object.keys(body).sort()).toEqual(CONTACT_KEYS);
    expect(body).toMatchObject({ address_line1: '1 Main St', city: 'Lyon' });
    for (const field of OPTIONAL_FIELDS) expect(body[field]).toBeNull();
    expect(await getContact(body.id)).toEqual(body);
  });

  it('stores every field as sent', async () => {
    const fields = contactFields({ address_line2: 'Flat 2', state: 'IL', phone_number: '+1 (555) 010-0199' });
    const contact = await aContact(app, caller, fields);
    expect(contact).toMatchObject(fields);
    expect(await getContact(contact.id)).toEqual(contact);
  });

  it('accepts the longest allowed values and the phone formats people write', async () => {
    const longest = { address_line1: 'a'.repeat(200), address_line2: 'b'.repeat(200), city: 'c'.repeat(100) };
    await aContact(app, caller, { ...longest, state: 's'.repeat(100), postal_code: 'p'.repeat(20) });
    for (const phone_number of ['+44 20 7946 0000', '555-0100', '01 (23) 45.67', '123', '1'.repeat(32)]) {
      expect((await aContact(app, caller, { phone_number })).phone_number).toBe(phone_number);
    }
  });

  const long = (n: number) => 'x'.repeat(n);
  it.each([
    ['a missing address_line1', { address_line1: undefined }, 'address_line1'],
    ['a missing city', { city: undefined }, 'city'],
    ['an empty address_line1', { address_line1: '' }, 'address_line1'],
    ['a blank address_line1', { address_line1: '   ' }, 'address_line1'],
    ['an address_line1 over 200 characters', { address_line1: long(201) }, 'address_line1'],
    ['an address_line2 over 200 characters', { address_line2: long(201) }, 'address_line2'],
    ['a city over 100 characters', { city: long(101) }, 'city'],
    ['a null city', { city: null }, 'city'],
    ['a state over 100 characters', { state: long(101) }, 'state'],
    ['a postal_code over 20 characters', { postal_code: long(21) }, 'postal_code'],
    ['a country over 100 characters', { country: long(101) }, 'country'],
    ['a number as address_line1', { address_line1: 12 }, 'address_line1'],
    ['a number as postal_code', { postal_code: 12345 }, 'postal_code'],
    ['a number as phone_number', { phone_number: 5550100 }, 'phone_number'],
    ['a phone_number with letters', { phone_number: '555-CALL-NOW' }, 'phone_number'],
    ['a phone_number ending in a dash', { phone_number: '555-' }, 'phone_number'],
    ['a phone_number with two plus signs', { phone_number: '++1 555' }, 'phone_number'],
    ['a phone_number under 3 characters', { phone_number: '12' }, 'phone_number'],
    ['a phone_number over 32 characters', { phone_number: '1'.repeat(33) }, 'phone_number'],
    ['an unknown field', { zip: '12345' }, 'zip'],
  ])('answers 400 naming the field for %s, and creates nothing', async (_name, overrides, field) => {
    const before = (await allContacts()).length;
    const fields: Json = contactFields(overrides);
    for (const key of Object.keys(fields)) if (fields[key] === undefined) delete fields[key];
    expectProblem(await send(app, caller, 'POST', '/contacts', fields), 400, [field]);
    expect((await allContacts()).length).toBe(before);
  });

  it('answers 400 for malformed JSON and 415 for a text/plain body, and creates nothing', async () => {
    const before = (await allContacts()).length;
    const json = { 'content-type': 'application/json' };
    expectProblem(await send(app, caller, 'POST', '/contacts', '{"city": ', json), 400);
    const text = JSON.stringify(contactFields());
    expectProblem(await send(app, caller, 'POST', '/contacts', text, { 'content-type': 'text/plain' }), 415);
    expect((await allContacts()).length).toBe(before);
  });
});

describe('reading and listing contacts', () => {
  it('answers 404 for a contact that does not exist and 400 naming id for a malformed one', async () => {
    expectProblem(await send(app, caller, 'GET', '/contacts/999999'), 404);
    for (const id of ['abc', '0', '-3', '2147483648']) {
      expectProblem(await send(app, caller, 'GET', `/contacts/${id}`), 400, ['id']);
    }
  });

  it('lists contacts as an array, paging with limit and cursor via the Link header until none remain', async () => {
    const created: number[] = [];
    for (let i = 0; i < 5; i++) created.push((await aContact(app, caller)).id);
    const seen: number[] = [];
    let url: string | undefined = '/contacts?limit=2';
    let pages = 0;
    while (url) {
      const response = await send(app, caller, 'GET', url);
      expect(response.statusCode).toBe(200);
      const page = response.json<Contact[]>();
      expect(page.length).toBeLessThanOrEqual(2);
      for (const c of page) expect(Object.keys(c).sort()).toEqual(CONTACT_KEYS);
      seen.push(...page.map((c) => c.id));
      url = nextUrl(response);
      if (url) expect(page).toHaveLength(2);
      else expect(response.headers.link).toBeUndefined();
      pages++;
    }
    expect(pages).toBeGreaterThanOrEqual(3);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining(created));
  });

  it.each([
    ['limit=201', 'limit'],
    ['limit=0', 'limit'],
    ['cursor=%25%25%25', 'cursor'],
    [`cursor=${Buffer.from('{"id":1}').toString('base64url')}`, 'cursor'],
    ['sort=city', 'sort'],
  ])('answers 400 for the query %s', async (query, field) => {
    expectProblem(await send(app, caller, 'GET', `/contacts?${query}`), 400, [field]);
  });
});

describe('updating a contact', () => {
  it.each([
    ['address_line1', '99 New Road'],
    ['address_line2', 'Suite 5'],
    ['city', 'Paris'],
    ['state', 'Ile-de-France'],
    ['postal_code', '75001'],
    ['country', 'FR'],
    ['phone_number', '+33 1 23 45 67 89'],
  ])('changes %s alone and keeps the change', async (field, value) => {
    const contact = await aContact(app, caller);
    const path = `/contacts/${contact.id}`;
    const updated = await expectStatus<Contact>(app, caller, 200, 'PATCH', path, { [field]: value });
    expect(updated).toEqual({ ...contact, [field]: value, updated_at: expect.any(String) });
    expect(Date.parse(String(updated.updated_at))).toBeGreaterThanOrEqual(Date.parse(String(contact.updated_at)));
    expect(await getContact(contact.id)).toEqual(updated);
  });

  it('clears an optional field given null, leaving the rest alone', async () => {
    const contact = await aContact(app, caller, { state: 'IL' });
    const patch = { phone_number: null, state: null, postal_code: null, country: null, address_line2: null };
    const updated = await expectStatus<Contact>(app, caller, 200, 'PATCH', `/contacts/${contact.id}`, patch);
    expect(updated).toEqual({ ...contact, ...patch, updated_at: expect.any(String) });
    expect(await getContact(contact.id)).toEqual(updated);
  });

  it.each([
    ['an empty body', {}, 'body'],
    ['a null address_line1', { address_line1: null }, 'address_line1'],
    ['a null city', { city: null }, 'city'],
    ['an empty city', { city: '' }, 'city'],
    ['a postal_code over 20 characters', { postal_code: 'x'.repeat(21) }, 'postal_code'],
    ['an invalid phone_number', { phone_number: 'call me' }, 'phone_number'],
    ['a number as country', { country: 33 }, 'country'],
    ['an unknown field', { city: 'Paris', zip: '1' }, 'zip'],
  ])('answers 400 for %s, and changes nothing', async (_name, patch, field) => {
    const contact = await aContact(app, caller);
    expectProblem(await send(app, caller, 'PATCH', `/contacts/${contact.id}`, patch), 400, [field]);
    expect(await getContact(contact.id)).toEqual(contact);
  });

  it('answers 404 for a contact that does not exist and 400 for a malformed id', async () => {
    expectProblem(await send(app, caller, 'PATCH', '/contacts/999999', { city: 'Paris' }), 404);
    expectProblem(await send(app, caller, 'PATCH', '/contacts/abc', { city: 'Paris' }), 400, ['id']);
  });
});

describe('deleting a contact', () => {
  it('answers 204, then 404 on read, update and a second delete, and drops it from the list', async () => {
    const contact = await aContact(app, caller);
    const path = `/contacts/${contact.id}`;
    await expectStatus(app, caller, 204, 'DELETE', path);
    expectProblem(await send(app, caller, 'GET', path), 404);
    expectProblem(await send(app, caller, 'PATCH', path, { city: 'Paris' }), 404);
    expectProblem(await send(app, caller, 'DELETE', path), 404);
    expect((await allContacts()).map((c) => c.id)).not.toContain(contact.id);
  });

  it('answers 400 for a malformed id', async () => {
    expectProblem(await send(app, caller, 'DELETE', '/contacts/abc'), 400, ['id']);
    expectProblem(await send(app, caller, 'DELETE', '/contacts/0'), 400, ['id']);
  });

  it('unlinks it from every customer, keeping their other contacts', async () => {
    const shared = await aContact(app, caller);
    const other = await aContact(app, caller);
    const first = await aCustomer(app, caller, { contact_id: [shared.id, other.id] });
    const second = await aCustomer(app, caller, { contact_id: [shared.id] });
    await expectStatus(app, caller, 204, 'DELETE', `/contacts/${shared.id}`);
    expect((await getCustomer(first.id)).contact_id).toEqual([other.id]);
    expect((await getCustomer(second.id)).contact_id).toEqual([]);
    const linked = await expectStatus<Contact[]>(app, caller, 200, 'GET', `/customers/${first.id}/contacts`);
    expect(linked).toEqual([other]);
    expectProblem(await send(app, caller, 'DELETE', `/customers/${second.id}/contacts/${shared.id}`), 404);
  });

  it('leaves orders shipped to it with their address copy and a null shipping_contact_id', async () => {
    const contact = await aContact(app, caller, { address_line1: '7 Harbour Way', state: 'WA' });
    const customer = await aCustomer(app, caller, { contact_id: [contact.id] });
    const product = await aProduct(app, caller);
    const order = await anOrder(app, caller, {
      customer_id: customer.id,
      items: [{ product_id: product.id, quantity: 2 }],
      shipping_contact_id: contact.id,
    });
    const { id: _id, created_at: _c, updated_at: _u, ...address } = contact;
    expect(order).toMatchObject({ shipping_contact_id: contact.id, shipping_address: address });

    await expectStatus(app, caller, 204, 'DELETE', `/contacts/${contact.id}`);
    const after = await expectStatus<Order>(app, caller, 200, 'GET', `/orders/${order.id}`);
    expect(after).toEqual({ ...order, shipping_contact_id: null });
    expect((await getCustomer(customer.id)).contact_id).toEqual([]);
  });
});
