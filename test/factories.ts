import { randomBytes } from 'node:crypto';
import type { App } from '../src/app.js';
import { anonymous, logIn, send, type Caller, type Method } from './http.js';

const unique = () => randomBytes(4).toString('hex');

type Json = Record<string, unknown>;

/** Sends a request and fails loudly, with the answer's body, when the status is not the expected one. */
export async function expectStatus<T = Json>(
  app: App,
  caller: Caller,
  status: number,
  method: Method,
  url: string,
  payload?: unknown,
): Promise<T> {
  const response = await send(app, caller, method, url, payload);
  if (response.statusCode !== status) {
    throw new Error(
      `${caller.name} ${method} ${url}: expected ${status}, got ${response.statusCode}: ${response.body}`,
    );
  }
  return (response.body ? response.json() : undefined) as T;
}

export type Contact = Json & { id: number };
export type Customer = Json & { id: number; username: string; email_id: string; contact_id: number[] };
export type Product = Json & {
  id: number;
  stock: number;
  price: number;
  sku: string;
  currency: string;
  active: boolean;
};
export type Order = Json & {
  id: number;
  customer_id: number;
  items: Json[];
  subtotal: number;
  total: number;
  status: string;
};

export const contactFields = (overrides: Json = {}) => ({
  address_line1: '12 Market Street',
  city: 'Springfield',
  postal_code: '12345',
  country: 'US',
  phone_number: '+1 555 0100',
  ...overrides,
});

export const customerFields = (overrides: Json = {}) => {
  const tag = unique();
  return {
    username: `user_${tag}`,
    password: 'correct horse battery',
    email_id: `user_${tag}@example.com`,
    first_name: 'Ada',
    last_name: 'Lovelace',
    ...overrides,
  };
};

export const productFields = (overrides: Json = {}) => ({
  sku: `SKU-${unique()}`,
  name: 'Plain mug',
  price: 1250,
  stock: 10,
  ...overrides,
});

export const aContact = (app: App, caller: Caller, overrides: Json = {}) =>
  expectStatus<Contact>(app, caller, 201, 'POST', '/contacts', contactFields(overrides));

export const aCustomer = (app: App, caller: Caller, overrides: Json = {}) =>
  expectStatus<Customer>(app, caller, 201, 'POST', '/customers', customerFields(overrides));

export const aProduct = (app: App, caller: Caller, overrides: Json = {}) =>
  expectStatus<Product>(app, caller, 201, 'POST', '/products', productFields(overrides));

export const anOrder = (app: App, caller: Caller, payload: Json) =>
  expectStatus<Order>(app, caller, 201, 'POST', '/orders', payload);

/** A customer who signed up and logged in: their record and the headers that carry their token. */
export async function aSignedInCustomer(app: App, overrides: Json = {}): Promise<Caller & { customer: Customer }> {
  const fields = customerFields(overrides);
  const customer = await expectStatus<Customer>(app, anonymous, 201, 'POST', '/customers', fields);
  return {
    name: `customer ${customer.username}`,
    headers: await logIn(app, fields.username, fields.password),
    customer,
  };
}
