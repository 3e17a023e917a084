import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../app.js';
import { createTestApp } from '../../../test/app.js';
import {
  anOrder,
  aProduct,
  aSignedInCustomer,
  expectStatus,
  type Customer,
  type Order,
  type Product,
} from '../../../test/factories.js';
import { staff, type Caller } from '../../../test/http.js';
import { signPayload } from './providers/signature.js';

const SECRET = 'whsec_test';

type PaymentEvent = { id: string; type: string; received_at: string; applied: boolean };
type Payment = {
  id: number;
  order_id: number;
  provider: string;
  amount: number;
  status: string;
  amount_captured: number;
  amount_refunded: number;
  provider_reference: string | null;
  refunds: { amount: number; provider_reference: string | null }[];
  events: PaymentEvent[];
};
type History = { status: string; at: string; by: string };
type PaidOrder = Order & { amount_paid: number; payment_status: string; status_history: History[] };
type Event = {
  id: string;
  type: string;
  provider_reference?: string | null;
  amount?: number;
  refund_reference?: string;
};

const sum = (values: number[]) => values.reduce((total, v) => total + v, 0);

function held(payment: Payment): number {
  if (payment.status === 'pending' || payment.status === 'authorized') return payment.amount;
  if (payment.status === 'failed' || payment.status === 'voided') return 0;
  return payment.amount_captured - payment.amount_refunded;
}

function paymentStatusOf(total: number, captured: number, refunded: number): string {
  if (refunded > 0) return captured - refunded > 0 ? 'partially_refunded' : 'refunded';
  if (captured === 0) return 'unpaid';
  return captured < total ? 'partially_paid' : 'paid';
}

describe('payment webhooks', () => {
  let app: App;
  let admin: Caller;
  let owner: Caller & { customer: Customer };
  let product: Product;

  beforeAll(async () => {
    app = await createTestApp({ paymentWebhookSecret: SECRET });
    admin = await staff(app);
    owner = await aSignedInCustomer(app);
    product = await aProduct(app, admin, { price: 1000, stock: 100_000 });
  });
  afterAll(async () => app.close());

  /**
   * Delivers an event the way a gateway does: the exact JSON text, signed over `${t}.${body}`. `signature: null`
   * leaves the header out; a string replaces it.
   */
  function deliver(
    event: Event | string,
    options: { secret?: string; at?: number; signature?: string | null; provider?: string } = {},
  ): Promise<LightMyRequestResponse> {
    const body = typeof event === 'string' ? event : JSON.stringify(event);
    const signature =
      options.signature === undefined ? signPayload(body, options.secret ?? SECRET, options.at) : options.signature;
    return app.inject({
      method: 'POST',
      url: `/webhooks/payments/${options.provider ?? 'test'}`,
      headers: { 'content-type': 'application/json', ...(signature === null ? {} : { 'store-signature': signature }) },
      payload: body,
    });
  }

  async function accepted(event: Event): Promise<void> {
    const response = await deliver(event);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toEqual({ received: true });
  }

  function rejected(response: LightMyRequestResponse, status = 400) {
    expect(response.statusCode, response.body).toBe(status);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    return response.json<{ code: string }>();
  }

  const eventId = () => `evt_${randomUUID()}`;

  /** A pending order of 1000 with a pm_card_async payment of `amount`, which waits for the gateway. */
  async function aPendingPayment(amount = 1000, capture = true) {
    const order = await anOrder(app, owner, { items: [{ product_id: product.id, quantity: 1 }] });
    const payment = await expectStatus<Payment>(app, owner, 201, 'POST', `/orders/${order.id}/payments`, {
      provider: 'test',
      payment_method: 'pm_card_async',
      amount,
      capture,
    });
    expect(payment).toMatchObject({ status: 'pending', amount_captured: 0, provider_reference: expect.any(String) });
    return { order, payment, reference: payment.provider_reference! };
  }

  const readPayment = (payment: { id: number }) =>
    expectStatus<Payment>(app, admin, 200, 'GET', `/payments/${payment.id}`);

  /** The order's status and money, after checking that they add up over its payments. */
  async function money(order: { id: number }) {
    const current = await expectStatus<PaidOrder>(app, admin, 200, 'GET', `/orders/${order.id}`);
    const payments = await expectStatus<Payment[]>(app, admin, 200, 'GET', `/orders/${order.id}/payments`);
    for (const p of payments) {
      expect(p.amount_refunded).toBe(sum(p.refunds.map((r) => r.amount)));
      expect(p.amount_captured).toBeLessThanOrEqual(p.amount);
      expect(p.amount_refunded).toBeLessThanOrEqual(p.amount_captured);
    }
    const captured = sum(payments.map((p) => p.amount_captured));
    const refunded = sum(payments.map((p) => p.amount_refunded));
    expect(current.amount_paid).toBe(captured - refunded);
    expect(current.payment_status).toBe(paymentStatusOf(current.total, captured, refunded));
    return {
      status: current.status,
      amount_paid: current.amount_paid,
      payment_status: current.payment_status,
      open: current.total - sum(payments.map(held)),
    };
  }

  describe('payment.succeeded', () => {
    it('captures a pending payment and moves the order to paid by provider:test', async () => {
      const { order, payment, reference } = await aPendingPayment();
      expect(await money(order)).toEqual({ status: 'pending', amount_paid: 0, payment_status: 'unpaid', open: 0 });
      const id = eventId();
      await accepted({ id, type: 'payment.succeeded', provider_reference: reference, amount: 1000 });

      const settled = await readPayment(payment);
      expect(settled).toMatchObject({ status: 'captured', amount_captured: 1000, amount_refunded: 0 });
      expect(settled.events).toEqual([
        { id, type: 'payment.succeeded', received_at: expect.any(String), applied: true },
      ]);
      expect(await money(order)).toEqual({ status: 'paid', amount_paid: 1000, payment_status: 'paid', open: 0 });
      const current = await expectStatus<PaidOrder>(app, owner, 200, 'GET', `/orders/${order.id}`);
      expect(current.status_history.at(-1)).toEqual({ status: 'paid', at: expect.any(String), by: 'provider:test' });
    });

    it('captures part of the order without paying it', async () => {
      const { order, payment, reference } = await aPendingPayment(400);
      await accepted({ id: eventId(), type: 'payment.succeeded', provider_reference: reference, amount: 400 });
      expect(await readPayment(payment)).toMatchObject({ status: 'captured', amount_captured: 400 });
      expect(await money(order)).toEqual({
        status: 'pending',
        amount_paid: 400,
        payment_status: 'partially_paid',
        open: 600,
      });
    });

    it('only authorizes a payment made with capture: false; staff then capture it', async () => {
      const { order, payment, reference } = await aPendingPayment(1000, false);
      await accepted({ id: eventId(), type: 'payment.succeeded', provider_reference: reference, amount: 1000 });
      expect(await readPayment(payment)).toMatchObject({ status: 'authorized', amount_captured: 0 });
      expect(await money(order)).toEqual({ status: 'pending', amount_paid: 0, payment_status: 'unpaid', open: 0 });

      await expectStatus(app, admin, 200, 'POST', `/payments/${payment.id}/capture`);
      expect(await money(order)).toEqual({ status: 'paid', amount_paid: 1000, payment_status: 'paid', open: 0 });
    });

    it('answers 200 to a repeated event id, changes nothing, and lists the event once', async () => {
      const { order, payment, reference } = await aPendingPayment();
      const event = { id: eventId(), type: 'payment.succeeded', provider_reference: reference, amount: 1000 };
      await accepted(event);
      const once = await readPayment(payment);
      const orderOnce = await expectStatus<PaidOrder>(app, admin, 200, 'GET', `/orders/${order.id}`);
      await accepted(event);
      // The same id with another type is still the same event.
      await accepted({ ...event, type: 'payment.failed' });
      expect(await readPayment(payment)).toEqual(once);
      expect(once.events.map((e) => e.id)).toEqual([event.id]);
      expect(await expectStatus<PaidOrder>(app, admin, 200, 'GET', `/orders/${order.id}`)).toEqual(orderOnce);
    });
  });

  describe('payment.failed', () => {
    it('fails a pending payment, which then holds nothing', async () => {
      const { order, payment, reference } = await aPendingPayment();
      const id = eventId();
      await accepted({ id, type: 'payment.failed', provider_reference: reference });
      const failed = await readPayment(payment);
      expect(failed).toMatchObject({ status: 'failed', amount_captured: 0 });
      expect(failed.events).toEqual([{ id, type: 'payment.failed', received_at: expect.any(String), applied: true }]);
      expect(await money(order)).toEqual({ status: 'pending', amount_paid: 0, payment_status: 'unpaid', open: 1000 });
    });

    it('records a failure after a success with applied: false and changes nothing', async () => {
      const { order, payment, reference } = await aPendingPayment();
      const success = eventId();
      const failure = eventId();
      await accepted({ id: success, type: 'payment.succeeded', provider_reference: reference });
      await accepted({ id: failure, type: 'payment.failed', provider_reference: reference });
      const now = await readPayment(payment);
      expect(now).toMatchObject({ status: 'captured', amount_captured: 1000 });
      expect(now.events.map((e) => [e.id, e.type, e.applied])).toEqual([
        [success, 'payment.succeeded', true],
        [failure, 'payment.failed', false],
      ]);
      expect(await money(order)).toEqual({ status: 'paid', amount_paid: 1000, payment_status: 'paid', open: 0 });
    });

    it('records a success after a failure with applied: false: the failed payment stays failed', async () => {
      const { order, payment, reference } = await aPendingPayment();
      await accepted({ id: eventId(), type: 'payment.failed', provider_reference: reference });
      await accepted({ id: eventId(), type: 'payment.succeeded', provider_reference: reference });
      const now = await readPayment(payment);
      expect(now.status).toBe('failed');
      expect(now.events.map((e) => e.applied)).toEqual([true, false]);
      expect(await money(order)).toEqual({ status: 'pending', amount_paid: 0, payment_status: 'unpaid', open: 1000 });
    });

    it('records a success for a payment voided when its order was cancelled, and changes nothing', async () => {
      const { order, payment, reference } = await aPendingPayment();
      await expectStatus(app, owner, 200, 'POST', `/orders/${order.id}/cancel`);
      await accepted({ id: eventId(), type: 'payment.succeeded', provider_reference: reference });
      const now = await readPayment(payment);
      expect(now).toMatchObject({ status: 'voided', amount_captured: 0 });
      expect(now.events.map((e) => e.applied)).toEqual([false]);
      expect(await money(order)).toEqual({
        status: 'cancelled',
        amount_paid: 0,
        payment_status: 'unpaid',
        open: 1000,
      });
    });
  });

  describe('refund.succeeded', () => {
    async function aCapturedPayment() {
      const pending = await aPendingPayment();
      await accepted({ id: eventId(), type: 'payment.succeeded', provider_reference: pending.reference });
      return pending;
    }

    it('records a refund made in the gateway once, by refund_reference, and the order becomes partially_refunded', async () => {
      const { order, payment, reference } = await aCapturedPayment();
      const refund = { type: 'refund.succeeded', provider_reference: reference, amount: 300, refund_reference: 're_1' };
      await accepted({ id: eventId(), ...refund });
      // The gateway tells us again under another event id: the refund is already there.
      await accepted({ id: eventId(), ...refund });
      const now = await readPayment(payment);
      expect(now).toMatchObject({ status: 'partially_refunded', amount_captured: 1000, amount_refunded: 300 });
      expect(now.refunds).toEqual([expect.objectContaining({ amount: 300, provider_reference: 're_1' })]);
      expect(now.events.map((e) => [e.type, e.applied])).toEqual([
        ['payment.succeeded', true],
        ['refund.succeeded', true],
        ['refund.succeeded', false],
      ]);
      // The order keeps its status; only its money changes.
      expect(await money(order)).toEqual({
        status: 'paid',
        amount_paid: 700,
        payment_status: 'partially_refunded',
        open: 300,
      });
    });

    it('refunds the rest under a new refund_reference, and never above what is captured', async () => {
      const { order, payment, reference } = await aCapturedPayment();
      const refund = (amount: number, refund_reference: string) =>
        accepted({ id: eventId(), type: 'refund.succeeded', provider_reference: reference, amount, refund_reference });
      await refund(600, 're_a');
      await refund(401, 're_b');
      expect(await readPayment(payment)).toMatchObject({ amount_refunded: 600, status: 'partially_refunded' });
      await refund(400, 're_c');
      expect(await readPayment(payment)).toMatchObject({ amount_refunded: 1000, status: 'refunded' });
      await refund(1, 're_d');
      const now = await readPayment(payment);
      expect(now.refunds.map((r) => [r.amount, r.provider_reference])).toEqual([
        [600, 're_a'],
        [400, 're_c'],
      ]);
      expect(now.events.filter((e) => e.type === 'refund.succeeded').map((e) => e.applied)).toEqual([
        true,
        false,
        true,
        false,
      ]);
      expect(await money(order)).toEqual({ status: 'paid', amount_paid: 0, payment_status: 'refunded', open: 1000 });
    });

    it('records without applying a refund without refund_reference, without a positive amount, or of an uncaptured payment', async () => {
      const { order, payment, reference } = await aCapturedPayment();
      await accepted({ id: eventId(), type: 'refund.succeeded', provider_reference: reference, amount: 100 });
      await accepted({
        id: eventId(),
        type: 'refund.succeeded',
        provider_reference: reference,
        amount: 0,
        refund_reference: 're_zero',
      });
      await accepted({
        id: eventId(),
        type: 'refund.succeeded',
        provider_reference: reference,
        refund_reference: 're_x',
      });
      const now = await readPayment(payment);
      expect(now).toMatchObject({ status: 'captured', amount_refunded: 0, refunds: [] });
      expect(now.events.map((e) => e.applied)).toEqual([true, false, false, false]);
      expect(await money(order)).toEqual({ status: 'paid', amount_paid: 1000, payment_status: 'paid', open: 0 });

      const pending = await aPendingPayment();
      await accepted({
        id: eventId(),
        type: 'refund.succeeded',
        provider_reference: pending.reference,
        amount: 100,
        refund_reference: 're_pending',
      });
      expect(await readPayment(pending.payment)).toMatchObject({ status: 'pending', refunds: [] });
    });
  });

  describe('events that name nothing known', () => {
    it('answers 200 to an unknown provider_reference or a missing one, and changes nothing', async () => {
      const { order, payment } = await aPendingPayment();
      await accepted({ id: eventId(), type: 'payment.succeeded', provider_reference: 'test_does_not_exist' });
      await accepted({ id: eventId(), type: 'payment.succeeded' });
      expect(await readPayment(payment)).toMatchObject({ status: 'pending', events: [] });
      expect(await money(order)).toEqual({ status: 'pending', amount_paid: 0, payment_status: 'unpaid', open: 0 });
    });

    it('records an unknown event type against its payment with applied: false', async () => {
      const { order, payment, reference } = await aPendingPayment();
      const id = eventId();
      await accepted({ id, type: 'charge.dispute.created', provider_reference: reference });
      const now = await readPayment(payment);
      expect(now.status).toBe('pending');
      expect(now.events).toEqual([
        { id, type: 'charge.dispute.created', received_at: expect.any(String), applied: false },
      ]);
      expect(await money(order)).toEqual({ status: 'pending', amount_paid: 0, payment_status: 'unpaid', open: 0 });
    });
  });

  describe('signatures', () => {
    const now = () => Math.floor(Date.now() / 1000);

    it.each<[string, Parameters<typeof deliver>[1]]>([
      ['no signature header', { signature: null }],
      ['a signature made with another secret', { secret: 'whsec_other' }],
      ['a signature without a timestamp', { signature: 'v1=00' }],
      ['a garbled signature', { signature: 'nonsense' }],
      ['a timestamp 6 minutes old', { at: now() - 6 * 60 }],
      ['a timestamp 6 minutes ahead', { at: now() + 6 * 60 }],
    ])('answers 400 to %s and changes nothing; the event can still be delivered afterwards', async (_, options) => {
      const { order, payment, reference } = await aPendingPayment();
      const event = { id: eventId(), type: 'payment.succeeded', provider_reference: reference };
      rejected(await deliver(event, options));
      expect(await readPayment(payment)).toMatchObject({ status: 'pending', events: [] });
      expect(await money(order)).toEqual({ status: 'pending', amount_paid: 0, payment_status: 'unpaid', open: 0 });
      // Not recorded: the properly signed delivery of the same id is applied.
      await accepted(event);
      expect(await readPayment(payment)).toMatchObject({ status: 'captured', amount_captured: 1000 });
    });

    it('accepts a timestamp within 5 minutes either way', async () => {
      for (const at of [now() - 4 * 60, now() + 4 * 60]) {
        const { payment, reference } = await aPendingPayment();
        const response = await deliver(
          { id: eventId(), type: 'payment.failed', provider_reference: reference },
          { at },
        );
        expect(response.statusCode, response.body).toBe(200);
        expect((await readPayment(payment)).status).toBe('failed');
      }
    });

    it('answers 400 to a body changed after signing, and changes nothing', async () => {
      const { order, payment, reference } = await aPendingPayment();
      const signed = JSON.stringify({ id: eventId(), type: 'payment.failed', provider_reference: reference });
      const sent = JSON.stringify({ id: eventId(), type: 'payment.succeeded', provider_reference: reference });
      rejected(await deliver(sent, { signature: signPayload(signed, SECRET) }));
      expect(await readPayment(payment)).toMatchObject({ status: 'pending', events: [] });
      expect(await money(order)).toEqual({ status: 'pending', amount_paid: 0, payment_status: 'unpaid', open: 0 });
    });

    it('answers 400 to a signed body that is not an event (no string id or type, not a JSON object, empty)', async () => {
      for (const body of [
        '{"type":"payment.succeeded"}',
        '{"id":"evt_1"}',
        '{"id":1,"type":"x"}',
        'not json',
        '[]',
        'null',
        '',
      ]) {
        rejected(await deliver(body));
      }
    });
  });

  describe('providers', () => {
    it.each(['manual', 'paypal'])('answers 404 for the %s provider, even signed', async (provider) => {
      const { payment, reference } = await aPendingPayment();
      const response = await deliver(
        { id: eventId(), type: 'payment.succeeded', provider_reference: reference },
        { provider },
      );
      rejected(response, 404);
      expect(await readPayment(payment)).toMatchObject({ status: 'pending', events: [] });
    });
  });
});
