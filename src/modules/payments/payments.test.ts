import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../app.js';
import { createTestApp } from '../../../test/app.js';
import {
  aCustomer,
  anOrder,
  aProduct,
  aSignedInCustomer,
  expectStatus,
  type Customer,
  type Order,
  type Product,
} from '../../../test/factories.js';
import { anonymous, send, staff, TEST_ADMIN, type Caller } from '../../../test/http.js';

type PaymentStatus = 'pending' | 'authorized' | 'captured' | 'partially_refunded' | 'refunded' | 'voided' | 'failed';
type Refund = {
  id: number;
  amount: number;
  reason: string | null;
  provider_reference: string | null;
  created_at: string;
};
type PaymentEvent = { id: string; type: string; received_at: string; applied: boolean };
type Payment = {
  id: number;
  order_id: number;
  provider: string;
  amount: number;
  currency: string;
  status: PaymentStatus;
  amount_captured: number;
  amount_refunded: number;
  provider_reference: string | null;
  created_at: string;
  refunds: Refund[];
  events: PaymentEvent[];
};
type History = { status: string; at: string; by: string };
type PaidOrder = Order & {
  currency: string;
  amount_paid: number;
  payment_status: 'unpaid' | 'partially_paid' | 'paid' | 'partially_refunded' | 'refunded';
  status_history: History[];
};
type Problem = Record<string, unknown> & { code: string; status: number; errors?: { field: string }[] };

const MISSING_ID = 2_147_483_647;
const PAYMENT_KEYS = [
  'amount',
  'amount_captured',
  'amount_refunded',
  'created_at',
  'currency',
  'events',
  'id',
  'order_id',
  'provider',
  'provider_reference',
  'refunds',
  'status',
];

const sum = (values: number[]) => values.reduce((total, v) => total + v, 0);

/** What a payment still holds of its order's total, as the issue states it. */
function held(payment: Payment): number {
  if (payment.status === 'pending' || payment.status === 'authorized') return payment.amount;
  if (payment.status === 'failed' || payment.status === 'voided') return 0;
  return payment.amount_captured - payment.amount_refunded;
}

/** The order's payment_status from captured C and refunded R, as the issue states it. */
function paymentStatusOf(total: number, captured: number, refunded: number): PaidOrder['payment_status'] {
  if (refunded > 0) return captured - refunded > 0 ? 'partially_refunded' : 'refunded';
  if (captured === 0) return 'unpaid';
  return captured < total ? 'partially_paid' : 'paid';
}

/** Asserts a problem+json answer with the given status and returns its body. */
function problem(response: LightMyRequestResponse, status: number): Problem {
  expect(response.statusCode, response.body).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = response.json<Problem>();
  expect(body.status).toBe(status);
  return body;
}

const fieldsOf = (body: Problem) => (body.errors ?? []).map((e) => e.field);

describe('payments', () => {
  let app: App;
  let admin: Caller;
  let staffLabel: string;
  let owner: Caller & { customer: Customer };
  let ownerLabel: string;
  let stranger: Caller & { customer: Customer };
  let product: Product;
  let mug: Product;

  beforeAll(async () => {
    app = await createTestApp({ paymentWebhookSecret: 'whsec_test' });
    admin = await staff(app);
    const members = await expectStatus<{ id: number; username: string }[]>(app, admin, 200, 'GET', '/staff?limit=200');
    staffLabel = `staff:${members.find((m) => m.username === TEST_ADMIN.username)!.id}`;
    owner = await aSignedInCustomer(app);
    ownerLabel = `customer:${owner.customer.id}`;
    stranger = await aSignedInCustomer(app);
    product = await aProduct(app, admin, { price: 1000, stock: 100_000 });
    mug = await aProduct(app, admin, { price: 250, stock: 100_000 });
  });
  afterAll(async () => app.close());

  /** A pending order of `quantity` × 1000 placed by the owner. */
  const anOrderOf = (quantity = 1) =>
    anOrder(app, owner, { items: [{ product_id: product.id, quantity }] }) as Promise<PaidOrder>;

  const payUrl = (order: { id: number }) => `/orders/${order.id}/payments`;
  const card = (payment_method: string, extra: Record<string, unknown> = {}) => ({
    provider: 'test',
    payment_method,
    ...extra,
  });
  const pay = (order: { id: number }, who: Caller, body: unknown, headers: Record<string, string> = {}) =>
    send(app, who, 'POST', payUrl(order), body, headers);
  const payOk = (order: { id: number }, who: Caller, extra: Record<string, unknown> = {}) =>
    expectStatus<Payment>(app, who, 201, 'POST', payUrl(order), card('pm_card_ok', extra));
  const readPayment = (payment: { id: number }, who: Caller = admin) =>
    expectStatus<Payment>(app, who, 200, 'GET', `/payments/${payment.id}`);
  const capture = (payment: { id: number }, body?: unknown, headers: Record<string, string> = {}) =>
    send(app, admin, 'POST', `/payments/${payment.id}/capture`, body, headers);
  const voidIt = (payment: { id: number }, headers: Record<string, string> = {}) =>
    send(app, admin, 'POST', `/payments/${payment.id}/void`, undefined, headers);
  const refund = (payment: { id: number }, amount: number, headers: Record<string, string> = {}) =>
    send(app, admin, 'POST', `/payments/${payment.id}/refunds`, { amount, reason: 'customer asked' }, headers);

  /**
   * Reads an order and its payments as staff and checks that the money adds up: each payment's refunds sum to its
   * amount_refunded, nothing is refunded beyond what was captured nor captured beyond the amount, a payment's status
   * matches its money, and the order's amount_paid and payment_status follow from the payments.
   */
  async function books(order: { id: number }) {
    const current = await expectStatus<PaidOrder>(app, admin, 200, 'GET', `/orders/${order.id}`);
    const payments = await expectStatus<Payment[]>(app, admin, 200, 'GET', payUrl(order));
    for (const p of payments) {
      expect(p.order_id).toBe(order.id);
      expect(p.currency).toBe(current.currency);
      expect(p.amount_refunded, `payment ${p.id} refunds`).toBe(sum(p.refunds.map((r) => r.amount)));
      expect(p.amount_captured).toBeLessThanOrEqual(p.amount);
      expect(p.amount_refunded).toBeLessThanOrEqual(p.amount_captured);
      const byMoney =
        p.amount_refunded === 0
          ? p.amount_captured > 0
            ? 'captured'
            : p.status
          : p.amount_refunded < p.amount_captured
            ? 'partially_refunded'
            : 'refunded';
      expect(p.status, `payment ${p.id} status`).toBe(byMoney);
      if (['pending', 'authorized', 'voided', 'failed'].includes(p.status)) expect(p.amount_captured).toBe(0);
    }
    const captured = sum(payments.map((p) => p.amount_captured));
    const refunded = sum(payments.map((p) => p.amount_refunded));
    expect(current.amount_paid).toBe(captured - refunded);
    expect(current.payment_status).toBe(paymentStatusOf(current.total, captured, refunded));
    const open = current.total - sum(payments.map(held));
    expect(open).toBeGreaterThanOrEqual(0);
    return { order: current, payments, open };
  }

  /** The order's status and money after a step, with the books checked first. */
  async function money(order: { id: number }) {
    const { order: current, open } = await books(order);
    return {
      status: current.status,
      amount_paid: current.amount_paid,
      payment_status: current.payment_status,
      open,
    };
  }

  /** A pending order with an authorized (capture: false) card payment of `amount`. */
  async function anAuthorizedPayment(amount = 1000) {
    const order = await anOrderOf();
    const payment = await payOk(order, owner, { amount, capture: false });
    expect(payment).toMatchObject({ status: 'authorized', amount, amount_captured: 0 });
    return { order, payment };
  }

  /** An order paid in full by one card payment of 1000. */
  async function aCapturedPayment() {
    const order = await anOrderOf();
    const payment = await payOk(order, owner);
    expect(await money(order)).toEqual({ status: 'paid', amount_paid: 1000, payment_status: 'paid', open: 0 });
    return { order, payment };
  }

  describe('POST /orders/{id}/payments', () => {
    it('lets the owner pay the whole order by card: 201, Location, the payment, and the order moves to paid by them', async () => {
      const order = await anOrderOf(2);
      expect(await money(order)).toEqual({ status: 'pending', amount_paid: 0, payment_status: 'unpaid', open: 2000 });

      const response = await pay(order, owner, card('pm_card_ok'));
      expect(response.statusCode, response.body).toBe(201);
      const payment = response.json<Payment>();
      expect(Object.keys(payment).sort()).toEqual(PAYMENT_KEYS);
      expect(payment).toEqual({
        id: expect.any(Number),
        order_id: order.id,
        provider: 'test',
        amount: 2000,
        currency: order.currency,
        status: 'captured',
        amount_captured: 2000,
        amount_refunded: 0,
        provider_reference: expect.any(String),
        created_at: expect.any(String),
        refunds: [],
        events: [],
      });
      expect(response.headers.location).toBe(`/payments/${payment.id}`);
      expect(await readPayment(payment, owner)).toEqual(payment);

      expect(await money(order)).toEqual({ status: 'paid', amount_paid: 2000, payment_status: 'paid', open: 0 });
      const { order: after } = await books(order);
      expect(after.status_history.map((h) => [h.status, h.by])).toEqual([
        ['pending', ownerLabel],
        ['paid', ownerLabel],
      ]);
    });

    it('takes several partial payments; the order stays pending until they reach its total, then staff are named', async () => {
      const order = await anOrderOf();
      const first = await payOk(order, owner, { amount: 400 });
      expect(first).toMatchObject({ amount: 400, amount_captured: 400, status: 'captured' });
      expect(await money(order)).toEqual({
        status: 'pending',
        amount_paid: 400,
        payment_status: 'partially_paid',
        open: 600,
      });

      const second = await payOk(order, admin, { amount: 250 });
      expect(second.amount_captured).toBe(250);
      expect(await money(order)).toEqual({
        status: 'pending',
        amount_paid: 650,
        payment_status: 'partially_paid',
        open: 350,
      });

      // Without an amount, what is still open is taken.
      const last = await payOk(order, admin);
      expect(last).toMatchObject({ amount: 350, amount_captured: 350 });
      expect(await money(order)).toEqual({ status: 'paid', amount_paid: 1000, payment_status: 'paid', open: 0 });
      const { order: after, payments } = await books(order);
      expect(payments.map((p) => p.id)).toEqual([first.id, second.id, last.id]);
      expect(after.status_history.map((h) => [h.status, h.by])).toEqual([
        ['pending', ownerLabel],
        ['paid', staffLabel],
      ]);
    });

    it('defaults the amount to what is open, counting authorized and pending payments as held', async () => {
      const order = await anOrderOf();
      await payOk(order, owner, { amount: 300 });
      await payOk(order, owner, { amount: 200, capture: false });
      const async = await expectStatus<Payment>(app, owner, 201, 'POST', payUrl(order), {
        ...card('pm_card_async'),
        amount: 100,
      });
      expect(async).toMatchObject({ status: 'pending', amount: 100, amount_captured: 0 });
      expect(await money(order)).toEqual({
        status: 'pending',
        amount_paid: 300,
        payment_status: 'partially_paid',
        open: 400,
      });
      const rest = await payOk(order, owner);
      expect(rest.amount).toBe(400);
      expect(await money(order)).toEqual({
        status: 'pending',
        amount_paid: 700,
        payment_status: 'partially_paid',
        open: 0,
      });
    });

    it('answers 409 to an amount above what is open, and to any payment once nothing is open; nothing is recorded', async () => {
      const order = await anOrderOf();
      await payOk(order, owner, { amount: 600, capture: false });
      const before = await books(order);

      const tooMuch = problem(await pay(order, owner, card('pm_card_ok', { amount: 401 })), 409);
      expect(fieldsOf(tooMuch)).toEqual(['amount']);
      expect(await books(order)).toEqual(before);

      await payOk(order, owner, { amount: 400, capture: false });
      for (const body of [card('pm_card_ok'), card('pm_card_ok', { amount: 1 })]) {
        problem(await pay(order, owner, body), 409);
      }
      expect(await money(order)).toEqual({ status: 'pending', amount_paid: 0, payment_status: 'unpaid', open: 0 });
      expect((await books(order)).payments).toHaveLength(2);
    });

    it('answers 400 to an amount that is not a positive integer of minor units, and records nothing', async () => {
      const order = await anOrderOf();
      for (const amount of [0, -5, 12.5, '500']) {
        const body = problem(await pay(order, owner, card('pm_card_ok', { amount })), 400);
        expect(fieldsOf(body)).toContain('amount');
      }
      expect((await books(order)).payments).toEqual([]);
    });

    it("answers 400 naming currency for a currency other than the order's; the order's own is accepted", async () => {
      const order = await anOrderOf();
      const other = order.currency === 'EUR' ? 'USD' : 'EUR';
      const body = problem(await pay(order, owner, card('pm_card_ok', { currency: other })), 400);
      expect(fieldsOf(body)).toEqual(['currency']);
      expect((await books(order)).payments).toEqual([]);

      const payment = await payOk(order, owner, { currency: order.currency });
      expect(payment.currency).toBe(order.currency);
      expect(await money(order)).toEqual({ status: 'paid', amount_paid: 1000, payment_status: 'paid', open: 0 });
    });

    it.each(['pm_card_declined', 'pm_card_insufficient_funds'])(
      'answers 402 to %s and keeps the attempt as a failed payment that holds nothing',
      async (method) => {
        const order = await anOrderOf();
        const body = problem(await pay(order, owner, card(method)), 402);
        expect(body.code).toBe('PAYMENT_DECLINED');
        const { payments } = await books(order);
        expect(payments).toEqual([
          expect.objectContaining({ id: body.payment_id, status: 'failed', amount: 1000, amount_captured: 0 }),
        ]);
        expect(await money(order)).toEqual({ status: 'pending', amount_paid: 0, payment_status: 'unpaid', open: 1000 });
        // The owner sees the failed attempt too, and can pay with another card afterwards.
        const mine = await expectStatus<Payment[]>(app, owner, 200, 'GET', payUrl(order));
        expect(mine.map((p) => p.status)).toEqual(['failed']);
        await payOk(order, owner);
        expect(await money(order)).toEqual({ status: 'paid', amount_paid: 1000, payment_status: 'paid', open: 0 });
      },
    );

    it('keeps a pm_card_async payment pending: it holds its amount but the order stays unpaid', async () => {
      const order = await anOrderOf();
      const payment = await expectStatus<Payment>(app, owner, 201, 'POST', payUrl(order), card('pm_card_async'));
      expect(payment).toMatchObject({ status: 'pending', amount: 1000, amount_captured: 0, amount_refunded: 0 });
      expect(await money(order)).toEqual({ status: 'pending', amount_paid: 0, payment_status: 'unpaid', open: 0 });
      problem(await pay(order, owner, card('pm_card_ok')), 409);
    });

    it('answers 400 naming payment_method for an unknown or missing test payment method, and records nothing', async () => {
      const order = await anOrderOf();
      for (const body of [card('pm_card_unknown'), { provider: 'test' }]) {
        const answer = problem(await pay(order, owner, body), 400);
        expect(fieldsOf(answer)).toEqual(['payment_method']);
      }
      expect((await books(order)).payments).toEqual([]);
    });

    it('answers 400 naming provider for an unknown provider, and records nothing', async () => {
      const order = await anOrderOf();
      for (const provider of ['paypal', 'stripe']) {
        const answer = problem(await pay(order, owner, { provider, payment_method: 'pm_card_ok' }), 400);
        expect(fieldsOf(answer)).toEqual(['provider']);
      }
      problem(await pay(order, owner, { payment_method: 'pm_card_ok' }), 400);
      expect((await books(order)).payments).toEqual([]);
    });

    it('answers 403 to a customer recording a manual payment; staff get 201 and a captured manual payment', async () => {
      const order = await anOrderOf();
      expect(problem(await pay(order, owner, { provider: 'manual' }), 403).code).toBe('STAFF_ONLY_PROVIDER');
      expect((await books(order)).payments).toEqual([]);

      const response = await pay(order, admin, { provider: 'manual', amount: 700 });
      expect(response.statusCode, response.body).toBe(201);
      const payment = response.json<Payment>();
      expect(payment).toMatchObject({ provider: 'manual', status: 'captured', amount: 700, amount_captured: 700 });
      expect(response.headers.location).toBe(`/payments/${payment.id}`);
      expect(await money(order)).toEqual({
        status: 'pending',
        amount_paid: 700,
        payment_status: 'partially_paid',
        open: 300,
      });
    });

    it.each(['paid', 'cancelled'])(
      'answers 409 naming the state for a %s order, and records nothing',
      async (state) => {
        const order = await anOrderOf();
        await expectStatus(app, admin, 200, 'PATCH', `/orders/${order.id}`, { status: state });
        const before = await books(order);
        for (const who of [owner, admin]) {
          const body = problem(await pay(order, who, card('pm_card_ok', { amount: 1 })), 409);
          expect(body).toMatchObject({ code: 'ORDER_NOT_PAYABLE', current_status: state });
        }
        expect(await books(order)).toEqual(before);
      },
    );

    it("answers 404 to another customer's payment of an order, 404 for an unknown order, 401 without a token", async () => {
      const order = await anOrderOf();
      expect(problem(await pay(order, stranger, card('pm_card_ok')), 404).code).toBe('ORDER_NOT_FOUND');
      problem(await pay({ id: MISSING_ID }, admin, card('pm_card_ok')), 404);
      problem(await pay(order, anonymous, card('pm_card_ok')), 401);
      expect(await money(order)).toEqual({ status: 'pending', amount_paid: 0, payment_status: 'unpaid', open: 1000 });
    });

    it('lets staff pay an order they placed for a customer', async () => {
      const customer = await aCustomer(app, admin);
      const order = await anOrder(app, admin, {
        customer_id: customer.id,
        items: [{ product_id: mug.id, quantity: 3 }],
      });
      const payment = await payOk(order, admin);
      expect(payment.amount).toBe(750);
      expect(await money(order)).toEqual({ status: 'paid', amount_paid: 750, payment_status: 'paid', open: 0 });
    });

    it('only authorizes with capture: false; the authorization holds its amount without paying the order', async () => {
      const order = await anOrderOf();
      const payment = await payOk(order, owner, { capture: false });
      expect(payment).toMatchObject({ status: 'authorized', amount: 1000, amount_captured: 0 });
      expect(await money(order)).toEqual({ status: 'pending', amount_paid: 0, payment_status: 'unpaid', open: 0 });
    });
  });

  describe('GET /orders/{id}/payments and GET /payments/{id}', () => {
    it("show an order's payments, oldest first, to its owner and staff; 404 to another customer; 401 without a token", async () => {
      const order = await anOrderOf();
      problem(await pay(order, owner, card('pm_card_declined')), 402);
      const ok = await payOk(order, owner);
      const asStaff = await expectStatus<Payment[]>(app, admin, 200, 'GET', payUrl(order));
      expect(asStaff.map((p) => [p.status, p.amount])).toEqual([
        ['failed', 1000],
        ['captured', 1000],
      ]);
      expect(await expectStatus<Payment[]>(app, owner, 200, 'GET', payUrl(order))).toEqual(asStaff);
      expect(await readPayment(ok, owner)).toEqual(asStaff[1]);
      expect(await readPayment(ok)).toEqual(asStaff[1]);

      expect(problem(await send(app, stranger, 'GET', payUrl(order)), 404).code).toBe('ORDER_NOT_FOUND');
      expect(problem(await send(app, stranger, 'GET', `/payments/${ok.id}`), 404).code).toBe('PAYMENT_NOT_FOUND');
      problem(await send(app, admin, 'GET', `/payments/${MISSING_ID}`), 404);
      problem(await send(app, admin, 'GET', `/orders/${MISSING_ID}/payments`), 404);
      problem(await send(app, anonymous, 'GET', payUrl(order)), 401);
      problem(await send(app, anonymous, 'GET', `/payments/${ok.id}`), 401);
    });

    it('show an empty list for an order without payments', async () => {
      const order = await anOrderOf();
      expect(await expectStatus<Payment[]>(app, owner, 200, 'GET', payUrl(order))).toEqual([]);
    });
  });

  describe('POST /payments/{id}/capture', () => {
    it('captures a whole authorization: 200, the payment, and the order moves to paid by staff', async () => {
      const { order, payment } = await anAuthorizedPayment();
      const response = await capture(payment);
      expect(response.statusCode, response.body).toBe(200);
      const captured = response.json<Payment>();
      expect(captured).toEqual({ ...payment, status: 'captured', amount_captured: 1000 });
      expect(await readPayment(payment)).toEqual(captured);
      expect(await money(order)).toEqual({ status: 'paid', amount_paid: 1000, payment_status: 'paid', open: 0 });
      const { order: after } = await books(order);
      expect(after.status_history.map((h) => [h.status, h.by])).toEqual([
        ['pending', ownerLabel],
        ['paid', staffLabel],
      ]);
    });

    it('captures a smaller amount and releases the rest, which is open again', async () => {
      const { order, payment } = await anAuthorizedPayment();
      const captured = await expectStatus<Payment>(app, admin, 200, 'POST', `/payments/${payment.id}/capture`, {
        amount: 600,
      });
      expect(captured).toMatchObject({ status: 'captured', amount: 1000, amount_captured: 600 });
      expect(await money(order)).toEqual({
        status: 'pending',
        amount_paid: 600,
        payment_status: 'partially_paid',
        open: 400,
      });
      await payOk(order, owner);
      expect(await money(order)).toEqual({ status: 'paid', amount_paid: 1000, payment_status: 'paid', open: 0 });
    });

    it('answers 409 to an amount above the authorization, and changes nothing', async () => {
      const { order, payment } = await anAuthorizedPayment(700);
      const body = problem(await capture(payment, { amount: 701 }), 409);
      expect(fieldsOf(body)).toEqual(['amount']);
      expect(await readPayment(payment)).toEqual(payment);
      expect(await money(order)).toEqual({ status: 'pending', amount_paid: 0, payment_status: 'unpaid', open: 300 });
    });

    it('answers 409 naming the state for a payment that is not authorized, and changes nothing', async () => {
      const order = await anOrderOf();
      const failed = problem(await pay(order, owner, card('pm_card_declined')), 402).payment_id as number;
      const pending = await expectStatus<Payment>(app, owner, 201, 'POST', payUrl(order), {
        ...card('pm_card_async'),
        amount: 100,
      });
      const voided = await payOk(order, owner, { amount: 100, capture: false });
      await expectStatus(app, admin, 200, 'POST', `/payments/${voided.id}/void`);
      const captured = await payOk(order, owner, { amount: 200 });
      const before = await books(order);
      for (const [id, state] of [
        [failed, 'failed'],
        [pending.id, 'pending'],
        [voided.id, 'voided'],
        [captured.id, 'captured'],
      ] as const) {
        const body = problem(await capture({ id }), 409);
        expect(body).toMatchObject({ code: 'INVALID_PAYMENT_STATE', current_status: state });
      }
      expect(await books(order)).toEqual(before);
    });

    it('answers 403 to a customer, even the owner, 401 without a token, 404 for an unknown payment', async () => {
      const { order, payment } = await anAuthorizedPayment();
      for (const [who, status] of [
        [owner, 403],
        [stranger, 403],
        [anonymous, 401],
      ] as const) {
        problem(await send(app, who, 'POST', `/payments/${payment.id}/capture`), status);
      }
      problem(await capture({ id: MISSING_ID }), 404);
      expect(await readPayment(payment)).toEqual(payment);
      expect(await money(order)).toEqual({ status: 'pending', amount_paid: 0, payment_status: 'unpaid', open: 0 });
    });
  });

  describe('POST /payments/{id}/void', () => {
    it('voids an authorized payment: 200, it holds nothing, and its amount is open again', async () => {
      const { order, payment } = await anAuthorizedPayment(800);
      expect(await money(order)).toEqual({ status: 'pending', amount_paid: 0, payment_status: 'unpaid', open: 200 });
      const response = await voidIt(payment);
      expect(response.statusCode, response.body).toBe(200);
      expect(response.json<Payment>()).toEqual({ ...payment, status: 'voided' });
      expect(await money(order)).toEqual({ status: 'pending', amount_paid: 0, payment_status: 'unpaid', open: 1000 });
    });

    it('voids a pending payment', async () => {
      const order = await anOrderOf();
      const payment = await expectStatus<Payment>(app, owner, 201, 'POST', payUrl(order), card('pm_card_async'));
      const voided = await expectStatus<Payment>(app, admin, 200, 'POST', `/payments/${payment.id}/void`);
      expect(voided.status).toBe('voided');
      expect(await money(order)).toEqual({ status: 'pending', amount_paid: 0, payment_status: 'unpaid', open: 1000 });
    });

    it('answers 409 naming the state for a captured, refunded, failed or already voided payment', async () => {
      const order = await anOrderOf();
      const failed = problem(await pay(order, owner, card('pm_card_declined')), 402).payment_id as number;
      const voided = await payOk(order, owner, { amount: 100, capture: false });
      await expectStatus(app, admin, 200, 'POST', `/payments/${voided.id}/void`);
      const captured = await payOk(order, owner, { amount: 200 });
      const refunded = await payOk(order, owner, { amount: 50 });
      await expectStatus(app, admin, 201, 'POST', `/payments/${refunded.id}/refunds`, { amount: 50, reason: 'x' });
      const before = await books(order);
      for (const [id, state] of [
        [failed, 'failed'],
        [voided.id, 'voided'],
        [captured.id, 'captured'],
        [refunded.id, 'refunded'],
      ] as const) {
        expect(problem(await voidIt({ id }), 409)).toMatchObject({
          code: 'INVALID_PAYMENT_STATE',
          current_status: state,
        });
      }
      expect(await books(order)).toEqual(before);
    });

    it('answers 403 to the owner and 404 for an unknown payment', async () => {
      const { payment } = await anAuthorizedPayment();
      problem(await send(app, owner, 'POST', `/payments/${payment.id}/void`), 403);
      problem(await voidIt({ id: MISSING_ID }), 404);
      expect(await readPayment(payment)).toEqual(payment);
    });
  });

  describe('POST /payments/{id}/refunds', () => {
    it('refunds part of a paid order: 201, Location, the refund listed; the order stays paid, partially_refunded', async () => {
      const { order, payment } = await aCapturedPayment();
      const response = await refund(payment, 300);
      expect(response.statusCode, response.body).toBe(201);
      expect(response.headers.location).toBe(`/payments/${payment.id}`);
      const refunded = response.json<Payment>();
      expect(refunded).toMatchObject({ id: payment.id, status: 'partially_refunded', amount_refunded: 300 });
      expect(refunded.refunds).toEqual([
        {
          id: expect.any(Number),
          amount: 300,
          reason: 'customer asked',
          provider_reference: expect.any(String),
          created_at: expect.any(String),
        },
      ]);
      expect(await readPayment(payment, owner)).toEqual(refunded);
      expect(await money(order)).toEqual({
        status: 'paid',
        amount_paid: 700,
        payment_status: 'partially_refunded',
        open: 300,
      });

      // The rest: the payment and the order's money are refunded, the order's status is still paid.
      const all = await expectStatus<Payment>(app, admin, 201, 'POST', `/payments/${payment.id}/refunds`, {
        amount: 700,
        reason: 'returned',
      });
      expect(all).toMatchObject({ status: 'refunded', amount_captured: 1000, amount_refunded: 1000 });
      expect(all.refunds.map((r) => [r.amount, r.reason])).toEqual([
        [300, 'customer asked'],
        [700, 'returned'],
      ]);
      expect(await money(order)).toEqual({ status: 'paid', amount_paid: 0, payment_status: 'refunded', open: 1000 });
      const { order: after } = await books(order);
      expect(after.status_history.map((h) => h.status)).toEqual(['pending', 'paid']);
    });

    it('answers 409 to a refund above what is captured minus refunded, and changes nothing', async () => {
      const { order, payment } = await aCapturedPayment();
      problem(await refund(payment, 1001), 409);
      await expectStatus(app, admin, 201, 'POST', `/payments/${payment.id}/refunds`, { amount: 600, reason: 'x' });
      const before = await books(order);
      const body = problem(await refund(payment, 401), 409);
      expect(fieldsOf(body)).toEqual(['amount']);
      expect(await books(order)).toEqual(before);
      await expectStatus(app, admin, 201, 'POST', `/payments/${payment.id}/refunds`, { amount: 400, reason: 'x' });
      // Nothing is left to refund.
      problem(await refund(payment, 1), 409);
      expect(await money(order)).toEqual({ status: 'paid', amount_paid: 0, payment_status: 'refunded', open: 1000 });
    });

    it('limits a refund to what a partial capture took', async () => {
      const { order, payment } = await anAuthorizedPayment();
      await expectStatus(app, admin, 200, 'POST', `/payments/${payment.id}/capture`, { amount: 400 });
      problem(await refund(payment, 401), 409);
      const refunded = await expectStatus<Payment>(app, admin, 201, 'POST', `/payments/${payment.id}/refunds`, {
        amount: 400,
        reason: 'x',
      });
      expect(refunded).toMatchObject({ status: 'refunded', amount: 1000, amount_captured: 400, amount_refunded: 400 });
      expect(await money(order)).toEqual({ status: 'pending', amount_paid: 0, payment_status: 'refunded', open: 1000 });
    });

    it('refunds part of a partially paid pending order; a later payment of what is open makes it paid', async () => {
      const order = await anOrderOf();
      const first = await payOk(order, owner, { amount: 600 });
      await expectStatus(app, admin, 201, 'POST', `/payments/${first.id}/refunds`, { amount: 200, reason: 'x' });
      expect(await money(order)).toEqual({
        status: 'pending',
        amount_paid: 400,
        payment_status: 'partially_refunded',
        open: 600,
      });
      const rest = await payOk(order, owner);
      expect(rest.amount).toBe(600);
      expect(await money(order)).toEqual({
        status: 'paid',
        amount_paid: 1000,
        payment_status: 'partially_refunded',
        open: 0,
      });
    });

    it('answers 409 naming the state for an authorized, pending, failed or voided payment', async () => {
      const order = await anOrderOf();
      const failed = problem(await pay(order, owner, card('pm_card_declined')), 402).payment_id as number;
      const voided = await payOk(order, owner, { amount: 100, capture: false });
      await expectStatus(app, admin, 200, 'POST', `/payments/${voided.id}/void`);
      const authorized = await payOk(order, owner, { amount: 100, capture: false });
      const pending = await expectStatus<Payment>(app, owner, 201, 'POST', payUrl(order), {
        ...card('pm_card_async'),
        amount: 100,
      });
      const before = await books(order);
      for (const [id, state] of [
        [failed, 'failed'],
        [voided.id, 'voided'],
        [authorized.id, 'authorized'],
        [pending.id, 'pending'],
      ] as const) {
        expect(problem(await refund({ id }, 1), 409)).toMatchObject({
          code: 'INVALID_PAYMENT_STATE',
          current_status: state,
        });
      }
      expect(await books(order)).toEqual(before);
    });

    it('answers 400 without a reason or with an amount that is not a positive integer', async () => {
      const { order, payment } = await aCapturedPayment();
      const url = `/payments/${payment.id}/refunds`;
      for (const body of [{ amount: 100 }, { amount: 0, reason: 'x' }, { amount: 1.5, reason: 'x' }, { reason: 'x' }]) {
        problem(await send(app, admin, 'POST', url, body), 400);
      }
      expect(await money(order)).toEqual({ status: 'paid', amount_paid: 1000, payment_status: 'paid', open: 0 });
    });

    it('answers 403 to a customer, even the owner, and 404 for an unknown payment', async () => {
      const { order, payment } = await aCapturedPayment();
      for (const who of [owner, stranger]) {
        problem(await send(app, who, 'POST', `/payments/${payment.id}/refunds`, { amount: 100, reason: 'mine' }), 403);
      }
      problem(await refund({ id: MISSING_ID }, 100), 404);
      expect(await money(order)).toEqual({ status: 'paid', amount_paid: 1000, payment_status: 'paid', open: 0 });
    });
  });

  describe('PATCH /orders/{id} to paid by staff', () => {
    it('records a captured manual payment of the whole total when nothing was paid', async () => {
      const order = await anOrderOf();
      const moved = await expectStatus<PaidOrder>(app, admin, 200, 'PATCH', `/orders/${order.id}`, {
        status: 'paid',
      });
      expect(moved).toMatchObject({ status: 'paid', amount_paid: 1000, payment_status: 'paid' });
      expect(moved.status_history.at(-1)).toEqual({ status: 'paid', at: expect.any(String), by: staffLabel });
      const { payments } = await books(order);
      expect(payments).toEqual([
        expect.objectContaining({ provider: 'manual', status: 'captured', amount: 1000, amount_captured: 1000 }),
      ]);
      expect(await money(order)).toEqual({ status: 'paid', amount_paid: 1000, payment_status: 'paid', open: 0 });
    });

    it('records a manual payment of only what is open after card payments and refunds', async () => {
      const order = await anOrderOf();
      const card1 = await payOk(order, owner, { amount: 500 });
      await expectStatus(app, admin, 201, 'POST', `/payments/${card1.id}/refunds`, { amount: 100, reason: 'x' });
      problem(await pay(order, owner, card('pm_card_declined', { amount: 100 })), 402);
      expect(await money(order)).toEqual({
        status: 'pending',
        amount_paid: 400,
        payment_status: 'partially_refunded',
        open: 600,
      });
      await expectStatus(app, admin, 200, 'PATCH', `/orders/${order.id}`, { status: 'paid' });
      const { payments } = await books(order);
      expect(payments.at(-1)).toMatchObject({ provider: 'manual', status: 'captured', amount: 600 });
      expect(await money(order)).toEqual({
        status: 'paid',
        amount_paid: 1000,
        payment_status: 'partially_refunded',
        open: 0,
      });
    });

    it.each(['authorized', 'pending'])('answers 409 while a payment is %s, and changes nothing', async (state) => {
      const order = await anOrderOf();
      const body =
        state === 'authorized'
          ? card('pm_card_ok', { amount: 300, capture: false })
          : card('pm_card_async', { amount: 300 });
      await expectStatus(app, owner, 201, 'POST', payUrl(order), body);
      const before = await books(order);
      const answer = problem(await send(app, admin, 'PATCH', `/orders/${order.id}`, { status: 'paid' }), 409);
      expect(answer.code).toBe('PAYMENT_IN_PROGRESS');
      expect(await books(order)).toEqual(before);
    });
  });

  describe('cancelling an order unwinds its money with its stock', () => {
    const stockOf = async () => (await expectStatus<Product>(app, admin, 200, 'GET', `/products/${product.id}`)).stock;

    it('refunds captured payments and voids authorized and pending ones when the owner cancels a pending order', async () => {
      const stockBefore = await stockOf();
      const order = await anOrderOf();
      const captured = await payOk(order, owner, { amount: 300 });
      await expectStatus(app, admin, 201, 'POST', `/payments/${captured.id}/refunds`, { amount: 100, reason: 'x' });
      const authorized = await payOk(order, owner, { amount: 200, capture: false });
      const pending = await expectStatus<Payment>(app, owner, 201, 'POST', payUrl(order), {
        ...card('pm_card_async'),
        amount: 100,
      });
      const failed = problem(await pay(order, owner, card('pm_card_declined', { amount: 50 })), 402)
        .payment_id as number;
      expect(await money(order)).toEqual({
        status: 'pending',
        amount_paid: 200,
        payment_status: 'partially_refunded',
        open: 500,
      });

      const cancelled = await expectStatus<PaidOrder>(app, owner, 200, 'POST', `/orders/${order.id}/cancel`);
      expect(cancelled).toMatchObject({ status: 'cancelled', amount_paid: 0, payment_status: 'refunded' });
      expect(await stockOf()).toBe(stockBefore);
      const { payments } = await books(order);
      const byId = new Map(payments.map((p) => [p.id, p]));
      expect(byId.get(captured.id)).toMatchObject({ status: 'refunded', amount_captured: 300, amount_refunded: 300 });
      expect(byId.get(captured.id)!.refunds.map((r) => r.amount)).toEqual([100, 200]);
      expect(byId.get(authorized.id)).toMatchObject({ status: 'voided', amount_captured: 0 });
      expect(byId.get(pending.id)).toMatchObject({ status: 'voided', amount_captured: 0 });
      expect(byId.get(failed)).toMatchObject({ status: 'failed', amount_captured: 0 });
      expect(await money(order)).toEqual({
        status: 'cancelled',
        amount_paid: 0,
        payment_status: 'refunded',
        open: 1000,
      });
    });

    it('refunds what is left of a paid order when staff cancel it', async () => {
      const stockBefore = await stockOf();
      const { order, payment } = await aCapturedPayment();
      await expectStatus(app, admin, 201, 'POST', `/payments/${payment.id}/refunds`, { amount: 250, reason: 'x' });
      const cancelled = await expectStatus<PaidOrder>(app, admin, 200, 'POST', `/orders/${order.id}/cancel`);
      expect(cancelled).toMatchObject({ status: 'cancelled', amount_paid: 0, payment_status: 'refunded' });
      expect(await readPayment(payment)).toMatchObject({
        status: 'refunded',
        amount_captured: 1000,
        amount_refunded: 1000,
      });
      expect(await money(order)).toEqual({
        status: 'cancelled',
        amount_paid: 0,
        payment_status: 'refunded',
        open: 1000,
      });
      expect(await stockOf()).toBe(stockBefore);
    });

    it('unwinds the same way when staff PATCH the order to cancelled', async () => {
      const order = await anOrderOf();
      const captured = await payOk(order, owner, { amount: 400 });
      const authorized = await payOk(order, owner, { amount: 600, capture: false });
      await expectStatus(app, admin, 200, 'PATCH', `/orders/${order.id}`, { status: 'cancelled' });
      expect(await readPayment(captured)).toMatchObject({ status: 'refunded', amount_refunded: 400 });
      expect(await readPayment(authorized)).toMatchObject({ status: 'voided' });
      expect(await money(order)).toEqual({
        status: 'cancelled',
        amount_paid: 0,
        payment_status: 'refunded',
        open: 1000,
      });
    });

    it('leaves an order that was only authorized unpaid once cancelled', async () => {
      const { order, payment } = await anAuthorizedPayment();
      await expectStatus(app, owner, 200, 'POST', `/orders/${order.id}/cancel`);
      expect(await readPayment(payment)).toMatchObject({ status: 'voided', amount_captured: 0 });
      expect(await money(order)).toEqual({ status: 'cancelled', amount_paid: 0, payment_status: 'unpaid', open: 1000 });
    });

    it('refunds nothing twice: a cancel refused with 409 leaves the money as it was', async () => {
      const { order, payment } = await aCapturedPayment();
      await expectStatus(app, admin, 200, 'PATCH', `/orders/${order.id}`, { status: 'shipped' });
      problem(await send(app, admin, 'POST', `/orders/${order.id}/cancel`), 409);
      expect(await readPayment(payment)).toMatchObject({ status: 'captured', amount_refunded: 0 });
      expect(await money(order)).toEqual({ status: 'shipped', amount_paid: 1000, payment_status: 'paid', open: 0 });
    });
  });

  describe('Idempotency-Key', () => {
    const key = () => ({ 'idempotency-key': randomUUID() });

    it('answers a retried payment with the first answer and takes the money once', async () => {
      const order = await anOrderOf();
      const headers = key();
      const first = await pay(order, owner, card('pm_card_ok', { amount: 400 }), headers);
      expect(first.statusCode, first.body).toBe(201);
      const again = await pay(order, owner, card('pm_card_ok', { amount: 400 }), headers);
      expect(again.statusCode, again.body).toBe(201);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.json()).toEqual(first.json());
      expect(again.headers.location).toBe(first.headers.location);
      expect((await books(order)).payments).toHaveLength(1);
      expect(await money(order)).toEqual({
        status: 'pending',
        amount_paid: 400,
        payment_status: 'partially_paid',
        open: 600,
      });
      // The same key with another body is refused, and moves nothing.
      problem(await pay(order, owner, card('pm_card_ok', { amount: 500 }), headers), 422);
      expect((await books(order)).payments).toHaveLength(1);
    });

    it('answers a replayed decline with the same 402 and keeps one failed attempt', async () => {
      const order = await anOrderOf();
      const headers = key();
      const first = problem(await pay(order, owner, card('pm_card_declined'), headers), 402);
      const again = await pay(order, owner, card('pm_card_declined'), headers);
      expect(problem(again, 402)).toEqual(first);
      expect(again.headers['idempotent-replayed']).toBe('true');
      const { payments } = await books(order);
      expect(payments.map((p) => p.status)).toEqual(['failed']);
      expect(await money(order)).toEqual({ status: 'pending', amount_paid: 0, payment_status: 'unpaid', open: 1000 });
    });

    it('answers a retried refund with the first answer and refunds once', async () => {
      const { order, payment } = await aCapturedPayment();
      const headers = key();
      const first = await refund(payment, 300, headers);
      expect(first.statusCode, first.body).toBe(201);
      const again = await refund(payment, 300, headers);
      expect(again.statusCode, again.body).toBe(201);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.json()).toEqual(first.json());
      const now = await readPayment(payment);
      expect(now).toMatchObject({ amount_refunded: 300 });
      expect(now.refunds).toHaveLength(1);
      expect(await money(order)).toEqual({
        status: 'paid',
        amount_paid: 700,
        payment_status: 'partially_refunded',
        open: 300,
      });
    });

    it('answers a retried capture with the first answer and captures once', async () => {
      const { order, payment } = await anAuthorizedPayment();
      const headers = key();
      const first = await capture(payment, { amount: 600 }, headers);
      expect(first.statusCode, first.body).toBe(200);
      const again = await capture(payment, { amount: 600 }, headers);
      expect(again.statusCode, again.body).toBe(200);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.json()).toEqual(first.json());
      expect(await readPayment(payment)).toMatchObject({ status: 'captured', amount_captured: 600 });
      expect(await money(order)).toEqual({
        status: 'pending',
        amount_paid: 600,
        payment_status: 'partially_paid',
        open: 400,
      });
      // A refused capture under a key is refused the same way when retried.
      const refusedKey = key();
      const refused = problem(await capture(payment, undefined, refusedKey), 409);
      expect(problem(await capture(payment, undefined, refusedKey), 409)).toEqual(refused);
    });

    it('answers a retried void with the first answer', async () => {
      const { order, payment } = await anAuthorizedPayment();
      const headers = key();
      const first = await voidIt(payment, headers);
      expect(first.statusCode, first.body).toBe(200);
      const again = await voidIt(payment, headers);
      expect(again.statusCode, again.body).toBe(200);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.json()).toEqual(first.json());
      expect(await money(order)).toEqual({ status: 'pending', amount_paid: 0, payment_status: 'unpaid', open: 1000 });
    });
  });
});
