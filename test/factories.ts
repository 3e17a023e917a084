import { randomBytes } from 'node:crypto';
import type { App } from '../src/app.js';

const unique = () => randomBytes(4).toString('hex');

type Json = Record<string, unknown>;

/** Sends a request and fails loudly when the answer is not the expected status. */
export async function expectStatus<T = Json>(
  app: App,
  status: number,
  request: {
    method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
    url: string;
    payload?: unknown;
    headers?: Record<string, string>;
  },
): Promise<T> {
  const response = await app.inject({ ...request, payload: request.payload as Json | undefined });
  if (response.statusCode !== status) {
    throw new Error(
      `${request.method} ${request.url}: expected ${status}, got ${response.statusCode}: ${response.body}`,
    );
  }
  return (response.body ? response.json() : undefined) as T;
}

export type Contact = Json & { id: number };
export type Customer = Json & { id: number; username: string; contact_id: number[] };
export type Product = Json & { id: number; stock: number; price: number; sku: string };
export type Order = Json & { id: number; items: Json[]; total: number; status: string };

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

export const aContact = (app: App, overrides: Json = {}) =>
  expectStatus<Contact>(app, 201, { method: 'POST', url: '/contacts', payload: contactFields(overrides) });

export const aCustomer = (app: App, overrides: Json = {}) =>
  expectStatus<Customer>(app, 201, { method: 'POST', url: '/customers', payload: customerFields(overrides) });

export const aProduct = (app: App, overrides: Json = {}) =>
  expectStatus<Product>(app, 201, { method: 'POST', url: '/products', payload: productFields(overrides) });

export const anOrder = (app: App, payload: Json) =>
  expectStatus<Order>(app, 201, { method: 'POST', url: '/orders', payload });
