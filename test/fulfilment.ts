import { expect } from 'vitest';
import type { App } from '../src/app.js';
import { anOrder, aProduct, expectStatus, type Order, type Product } from './factories.js';
import { send, type Caller } from './http.js';
import { signPayload } from '../src/modules/payments/providers/signature.js';

/** Shared by the shipments and returns tests: the shapes they read and the steps they repeat. */
export const CARRIER_SECRET = 'whsec_carrier';

export type ShipmentEvent = {
  id: string;
  status: string;
  occurred_at: string;
  location: string | null;
  description: string | null;
};
export type Shipment = {
  id: number;
  order_id: number;
  carrier: string;
  tracking_number: string | null;
  tracking_url: string | null;
  status: string;
  items: { order_item_id: number; quantity: number }[];
  created_at: string;
  events: ShipmentEvent[];
};
export type FulfilledOrder = Order & {
  items: { id: number; product_id: number; quantity: number; unit_price: number }[];
  amount_paid: number;
  payment_status: string;
  fulfillment_status: string;
  delivered_at: string | null;
  status_history: { status: string; at: string; by: string }[];
};
export type Return = {
  id: number;
  order_id: number;
  status: string;
  reason: string;
  items: { order_item_id: number; quantity: number }[];
  refund_amount: number;
  created_at: string;
};

export const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();

/** Sends a carrier event signed as the carrier would (or with the signature header given). */
export function carrierEvent(
  app: App,
  carrier: string,
  event: Record<string, unknown>,
  signature?: string | null,
  secret = CARRIER_SECRET,
) {
  const body = JSON.stringify(event);
  const header = signature === undefined ? signPayload(body, secret) : signature;
  return app.inject({
    method: 'POST',
    url: `/webhooks/carriers/${carrier}`,
    headers: { 'content-type': 'application/json', ...(header === null ? {} : { 'store-signature': header }) },
    payload: body,
  });
}

export async function signedCarrierEvent(app: App, carrier: string, event: Record<string, unknown>) {
  const response = await carrierEvent(app, carrier, event);
  expect(response.statusCode, response.body).toBe(200);
}

/** Two products and an order of 3 × the first and 2 × the second, paid by its customer with the test gateway. */
export async function aPaidOrder(app: App, admin: Caller, customer: Caller) {
  const mug = await aProduct(app, admin, { price: 1000, stock: 10 });
  const lamp = await aProduct(app, admin, { price: 2500, stock: 5 });
  const order = (await anOrder(app, customer, {
    items: [
      { product_id: mug.id, quantity: 3 },
      { product_id: lamp.id, quantity: 2 },
    ],
  })) as FulfilledOrder;
  await expectStatus(app, customer, 201, 'POST', `/orders/${order.id}/payments`, {
    provider: 'test',
    payment_method: 'pm_card_ok',
  });
  const [mugLine, lampLine] = order.items;
  return { order, mug, lamp, mugLine: mugLine!, lampLine: lampLine! };
}

export const getOrder = (app: App, caller: Caller, id: number) =>
  expectStatus<FulfilledOrder>(app, caller, 200, 'GET', `/orders/${id}`);

/** The product's stock, checked against the sum of its whole ledger (following Link to the last page). */
export async function stockOf(app: App, admin: Caller, product: Product): Promise<number> {
  const { stock } = await expectStatus<Product>(app, admin, 200, 'GET', `/products/${product.id}`);
  let url: string | null = `/products/${product.id}/inventory-movements?limit=2`;
  let sum = 0;
  while (url) {
    const response = await send(app, admin, 'GET', url);
    expect(response.statusCode, response.body).toBe(200);
    sum += response.json<{ quantity: number }[]>().reduce((total, m) => total + m.quantity, 0);
    const link = response.headers.link;
    url = typeof link === 'string' ? (/<([^>]+)>; rel="next"/.exec(link)?.[1] ?? null) : null;
  }
  expect(sum, `stock of product ${product.id} against its ledger`).toBe(stock);
  return stock;
}

/** What an order looks like at a step of the walk. */
export async function expectOrder(
  app: App,
  caller: Caller,
  id: number,
  expected: Partial<Pick<FulfilledOrder, 'status' | 'amount_paid' | 'payment_status' | 'fulfillment_status'>>,
): Promise<FulfilledOrder> {
  const order = await getOrder(app, caller, id);
  expect({
    status: order.status,
    amount_paid: order.amount_paid,
    payment_status: order.payment_status,
    fulfillment_status: order.fulfillment_status,
  }).toMatchObject(expected);
  return order;
}
