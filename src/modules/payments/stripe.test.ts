import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../app.js';
import { createTestApp } from '../../../test/app.js';
import { anOrder, aProduct, aSignedInCustomer, expectStatus } from '../../../test/factories.js';
import { send, staff, type Caller } from '../../../test/http.js';
import type { Payment } from './payments.schemas.js';

const WEBHOOK_SECRET = 'whsec_stand_in';

type Seen = { method: string; path: string; form: URLSearchParams; idempotencyKey: string | undefined };

/** A local stand-in for the few Stripe endpoints we call: there is no network here. */
function startStandIn(): Promise<{ server: Server; base: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  let counter = 0;
  const read = (request: IncomingMessage) =>
    new Promise<string>((resolve) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => resolve(body));
    });
  const server = createServer((request, response) => {
    void read(request).then((body) => {
      const form = new URLSearchParams(body);
      const path = request.url ?? '';
      const key = request.headers['idempotency-key'];
      seen.push({
        method: request.method ?? '',
        path,
        form,
        idempotencyKey: typeof key === 'string' ? key : undefined,
      });
      const reply = (status: number, payload: unknown) => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(payload));
      };
      if (path === '/v1/payment_intents') {
        const id = `pi_${++counter}`;
        const method = form.get('payment_method');
        if (method === 'pm_card_chargeDeclined') {
          return reply(402, {
            error: {
              type: 'card_error',
              code: 'card_declined',
              message: 'Your card was declined.',
              payment_intent: { id },
            },
          });
        }
        if (method !== 'pm_card_visa' && method !== 'pm_card_processing') {
          return reply(400, {
            error: {
              type: 'invalid_request_error',
              param: 'payment_method',
              message: `No such PaymentMethod: '${method}'`,
            },
          });
        }
        const manual = form.get('capture_method') === 'manual';
        const status = method === 'pm_card_processing' ? 'processing' : manual ? 'requires_capture' : 'succeeded';
        return reply(200, { id, object: 'payment_intent', amount: Number(form.get('amount')), status });
      }
      const intent = /^\/v1\/payment_intents\/([^/]+)\/(capture|cancel)$/.exec(path);
      if (intent) {
        return reply(200, {
          id: intent[1],
          object: 'payment_intent',
          status: intent[2] === 'capture' ? 'succeeded' : 'canceled',
        });
      }
      if (path === '/v1/refunds') {
        return reply(200, {
          id: `re_${++counter}`,
          object: 'refund',
          amount: Number(form.get('amount')),
          payment_intent: form.get('payment_intent'),
          status: 'succeeded',
        });
      }
      return reply(404, { error: { type: 'invalid_request_error', message: 'unknown path' } });
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen }),
    ),
  );
}

describe('the stripe provider, against a local stand-in of the Stripe API', () => {
  let standIn: Awaited<ReturnType<typeof startStandIn>>;
  let app: App;
  let admin: Caller;
  let customer: Caller;
  let productId: number;

  beforeAll(async () => {
    standIn = await startStandIn();
    app = await createTestApp({
      stripe: { secretKey: 'sk_test_stand_in', webhookSecret: WEBHOOK_SECRET, apiBase: standIn.base },
    });
    admin = await staff(app);
    customer = await aSignedInCustomer(app);
    productId = (await aProduct(app, admin, { price: 2500, stock: 100 })).id;
  });
  afterAll(async () => {
    await app.close();
    standIn.server.close();
  });

  const order = () => anOrder(app, customer, { items: [{ product_id: productId, quantity: 2 }] });
  const pay = async (body: Record<string, unknown>) =>
    send(app, customer, 'POST', `/orders/${(await order()).id}/payments`, { provider: 'stripe', ...body });

  it('takes a payment through a confirmed PaymentIntent and marks the order paid', async () => {
    const response = await pay({ payment_method: 'pm_card_visa' });
    expect(response.statusCode, response.body).toBe(201);
    const payment = response.json<Payment>();
    expect(payment).toMatchObject({ status: 'captured', amount: 5000, amount_captured: 5000 });
    expect(payment.provider_reference).toMatch(/^pi_/);
    const call = standIn.seen.at(-1)!;
    expect(call.form.get('amount')).toBe('5000');
    expect(call.form.get('currency')).toBe('usd');
    expect(call.form.get('confirm')).toBe('true');
    expect(call.idempotencyKey).toBeTruthy();
    const paidOrder = await expectStatus<{ status: string }>(app, customer, 200, 'GET', `/orders/${payment.order_id}`);
    expect(paidOrder.status).toBe('paid');
  });

  it('answers a card decline with 402 and keeps the attempt as failed', async () => {
    const response = await pay({ payment_method: 'pm_card_chargeDeclined' });
    expect(response.statusCode).toBe(402);
    expect(response.json()).toMatchObject({ code: 'PAYMENT_DECLINED', detail: 'Your card was declined.' });
  });

  it('names payment_method when Stripe does not know it', async () => {
    const response = await pay({ payment_method: 'pm_nonsense' });
    expect(response.statusCode).toBe(400);
    expect(response.json().errors[0].field).toBe('payment_method');
  });

  it('authorizes with capture false, then captures part and refunds through the SDK', async () => {
    const authorized = (await pay({ payment_method: 'pm_card_visa', capture: false })).json<Payment>();
    expect(authorized.status).toBe('authorized');
    expect(standIn.seen.at(-1)!.form.get('capture_method')).toBe('manual');

    const captured = await expectStatus<Payment>(app, admin, 200, 'POST', `/payments/${authorized.id}/capture`, {
      amount: 3000,
    });
    expect(captured).toMatchObject({ status: 'captured', amount_captured: 3000 });
    expect(standIn.seen.at(-1)!.path).toBe(`/v1/payment_intents/${authorized.provider_reference}/capture`);
    expect(standIn.seen.at(-1)!.form.get('amount_to_capture')).toBe('3000');

    const refunded = await expectStatus<Payment>(app, admin, 201, 'POST', `/payments/${authorized.id}/refunds`, {
      amount: 1000,
      reason: 'damaged',
    });
    expect(refunded).toMatchObject({ status: 'partially_refunded', amount_refunded: 1000 });
    expect(refunded.refunds[0]!.provider_reference).toMatch(/^re_/);
    expect(standIn.seen.at(-1)!.form.get('payment_intent')).toBe(authorized.provider_reference);
  });

  it("settles a processing payment from Stripe's signed webhook, once, and refuses a bad signature", async () => {
    const pending = (await pay({ payment_method: 'pm_card_processing' })).json<Payment>();
    expect(pending.status).toBe('pending');
    const payload = JSON.stringify({
      id: 'evt_stand_in_1',
      object: 'event',
      type: 'payment_intent.succeeded',
      data: { object: { id: pending.provider_reference, object: 'payment_intent', amount: 5000 } },
    });
    const stripe = new Stripe('sk_test_stand_in');
    const post = (signature: string) =>
      app.inject({
        method: 'POST',
        url: '/webhooks/payments/stripe',
        headers: { 'content-type': 'application/json', 'stripe-signature': signature },
        payload,
      });
    const forged = await post(stripe.webhooks.generateTestHeaderString({ payload, secret: 'whsec_wrong' }));
    expect(forged.statusCode).toBe(400);

    const header = stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET });
    expect((await post(header)).statusCode).toBe(200);
    expect((await post(header)).statusCode).toBe(200);
    const settled = await expectStatus<Payment>(app, admin, 200, 'GET', `/payments/${pending.id}`);
    expect(settled).toMatchObject({ status: 'captured', amount_captured: 5000 });
    expect(settled.events).toEqual([expect.objectContaining({ id: 'evt_stand_in_1', applied: true })]);
  });
});

describe('without Stripe settings', () => {
  it('answers a stripe payment with 400 naming provider', async () => {
    const app = await createTestApp();
    try {
      const admin = await staff(app);
      const product = await aProduct(app, admin);
      const customer = await aSignedInCustomer(app);
      const placed = await anOrder(app, customer, { items: [{ product_id: product.id, quantity: 1 }] });
      const response = await send(app, customer, 'POST', `/orders/${placed.id}/payments`, {
        provider: 'stripe',
        payment_method: 'pm_card_visa',
      });
      expect(response.statusCode).toBe(400);
      expect(response.json().errors[0].field).toBe('provider');
    } finally {
      await app.close();
    }
  });
});
