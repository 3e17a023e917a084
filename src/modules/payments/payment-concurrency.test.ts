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
import { send, staff, type Caller } from '../../../test/http.js';
import { signPayload } from './providers/signature.js';

const SECRET = 'whsec_test';
const N = 20;

type Payment = {
  id: number;
  amount: number;
  status: string;
  amount_captured: number;
  amount_refunded: number;
  provider_reference: string | null;
  refunds: { amount: number; provider_reference: string | null }[];
  events: { id: string; applied: boolean }[];
};
type PaidOrder = Order & {
  amount_paid: number;
  payment_status: string;
  status_history: { status: string; by: string }[];
};

const sum = (values: number[]) => values.reduce((total, v) => total + v, 0);
const statuses = (answers: LightMyRequestResponse[]) => answers.map((a) => a.statusCode).sort((a, b) => a - b);
const count = (answers: LightMyRequestResponse[], status: number) =>
  answers.filter((a) => a.statusCode === status).length;

describe.runIf(Boolean(process.env.TEST_DATABASE_URL))('concurrent payments (PostgreSQL)', () => {
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

  const anOrderOf1000 = () => anOrder(app, owner, { items: [{ product_id: product.id, quantity: 1 }] });
  const payOk = (order: Order, extra: Record<string, unknown> = {}) =>
    expectStatus<Payment>(app, owner, 201, 'POST', `/orders/${order.id}/payments`, {
      provider: 'test',
      payment_method: 'pm_card_ok',
      ...extra,
    });
  const readPayment = (payment: { id: number }) =>
    expectStatus<Payment>(app, admin, 200, 'GET', `/payments/${payment.id}`);

  /** The order's status and money, checked against its payments. */
  async function money(order: { id: number }) {
    const current = await expectStatus<PaidOrder>(app, admin, 200, 'GET', `/orders/${order.id}`);
    const payments = await expectStatus<Payment[]>(app, admin, 200, 'GET', `/orders/${order.id}/payments`);
    for (const p of payments) {
      expect(p.amount_refunded).toBe(sum(p.refunds.map((r) => r.amount)));
      expect(p.amount_refunded).toBeLessThanOrEqual(p.amount_captured);
      expect(p.amount_captured).toBeLessThanOrEqual(p.amount);
    }
    const captured = sum(payments.map((p) => p.amount_captured));
    const refunded = sum(payments.map((p) => p.amount_refunded));
    expect(current.amount_paid).toBe(captured - refunded);
    return {
      status: current.status,
      amount_paid: current.amount_paid,
      payment_status: current.payment_status,
      paid_entries: current.status_history.filter((h) => h.status === 'paid').length,
    };
  }

  function deliver(event: Record<string, unknown>) {
    const body = JSON.stringify(event);
    return app.inject({
      method: 'POST',
      url: '/webhooks/payments/test',
      headers: { 'content-type': 'application/json', 'store-signature': signPayload(body, SECRET) },
      payload: body,
    });
  }

  it(`lets exactly 3 of ${N} concurrent refunds of 300 through on a capture of 1000; the rest get 409`, async () => {
    const order = await anOrderOf1000();
    const payment = await payOk(order);
    const answers = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        send(app, admin, 'POST', `/payments/${payment.id}/refunds`, { amount: 300, reason: `refund ${i}` }),
      ),
    );
    expect(statuses(answers)).toEqual([...Array(3).fill(201), ...Array(N - 3).fill(409)]);
    const now = await readPayment(payment);
    expect(now).toMatchObject({ status: 'partially_refunded', amount_captured: 1000, amount_refunded: 900 });
    expect(now.refunds.map((r) => r.amount)).toEqual([300, 300, 300]);
    expect(await money(order)).toEqual({
      status: 'paid',
      amount_paid: 100,
      payment_status: 'partially_refunded',
      paid_entries: 1,
    });
  });

  it(`lets exactly one of ${N} concurrent captures of an authorized payment through`, async () => {
    const order = await anOrderOf1000();
    const payment = await payOk(order, { capture: false });
    const answers = await Promise.all(
      Array.from({ length: N }, () => send(app, admin, 'POST', `/payments/${payment.id}/capture`)),
    );
    expect(statuses(answers)).toEqual([200, ...Array(N - 1).fill(409)]);
    for (const refused of answers.filter((a) => a.statusCode === 409)) {
      expect(refused.json()).toMatchObject({ code: 'INVALID_PAYMENT_STATE', current_status: 'captured' });
    }
    expect(await readPayment(payment)).toMatchObject({ status: 'captured', amount_captured: 1000 });
    expect(await money(order)).toEqual({ status: 'paid', amount_paid: 1000, payment_status: 'paid', paid_entries: 1 });
  });

  it(`lets exactly one of ${N} concurrent captures through when each carries its own Idempotency-Key`, async () => {
    const order = await anOrderOf1000();
    const payment = await payOk(order, { capture: false });
    const answers = await Promise.all(
      Array.from({ length: N }, () =>
        send(app, admin, 'POST', `/payments/${payment.id}/capture`, undefined, { 'idempotency-key': randomUUID() }),
      ),
    );
    expect(statuses(answers)).toEqual([200, ...Array(N - 1).fill(409)]);
    expect(await money(order)).toEqual({ status: 'paid', amount_paid: 1000, payment_status: 'paid', paid_entries: 1 });
  });

  it(`lets exactly 3 of ${N} concurrent payments of 300 into an order of 1000; the rest get 409`, async () => {
    const order = await anOrderOf1000();
    const answers = await Promise.all(
      Array.from({ length: N }, () =>
        send(app, owner, 'POST', `/orders/${order.id}/payments`, {
          provider: 'test',
          payment_method: 'pm_card_ok',
          amount: 300,
        }),
      ),
    );
    expect(statuses(answers)).toEqual([...Array(3).fill(201), ...Array(N - 3).fill(409)]);
    expect(await money(order)).toEqual({
      status: 'pending',
      amount_paid: 900,
      payment_status: 'partially_paid',
      paid_entries: 0,
    });
  });

  it(`takes the money once when one payment is sent ${N} times at once with the same Idempotency-Key`, async () => {
    const order = await anOrderOf1000();
    const headers = { 'idempotency-key': randomUUID() };
    const body = { provider: 'test', payment_method: 'pm_card_ok' };
    const answers = await Promise.all(
      Array.from({ length: N }, () => send(app, owner, 'POST', `/orders/${order.id}/payments`, body, headers)),
    );
    // The first is created; a repeat either gets its answer back or is told the key is still in use.
    expect(count(answers, 201) + count(answers, 409)).toBe(N);
    expect(count(answers, 201)).toBeGreaterThanOrEqual(1);
    for (const busy of answers.filter((a) => a.statusCode === 409)) {
      expect(busy.json<{ code: string }>().code).toBe('IDEMPOTENCY_KEY_IN_USE');
    }
    const created = answers.filter((a) => a.statusCode === 201).map((a) => a.json<Payment>().id);
    expect(new Set(created).size).toBe(1);
    const payments = await expectStatus<Payment[]>(app, admin, 200, 'GET', `/orders/${order.id}/payments`);
    expect(payments).toHaveLength(1);
    expect(await money(order)).toEqual({ status: 'paid', amount_paid: 1000, payment_status: 'paid', paid_entries: 1 });
  });

  it(`applies a webhook event delivered ${N} times at once exactly once`, async () => {
    const order = await anOrderOf1000();
    const payment = await expectStatus<Payment>(app, owner, 201, 'POST', `/orders/${order.id}/payments`, {
      provider: 'test',
      payment_method: 'pm_card_async',
    });
    const event = {
      id: `evt_${randomUUID()}`,
      type: 'payment.succeeded',
      provider_reference: payment.provider_reference,
    };
    const answers = await Promise.all(Array.from({ length: N }, () => deliver(event)));
    expect(statuses(answers)).toEqual(Array(N).fill(200));
    const now = await readPayment(payment);
    expect(now).toMatchObject({ status: 'captured', amount_captured: 1000 });
    expect(now.events).toEqual([expect.objectContaining({ id: event.id, applied: true })]);
    expect(await money(order)).toEqual({ status: 'paid', amount_paid: 1000, payment_status: 'paid', paid_entries: 1 });
  });

  it(`records a gateway refund reported ${N} times at once under different event ids exactly once`, async () => {
    const order = await anOrderOf1000();
    const payment = await payOk(order);
    const answers = await Promise.all(
      Array.from({ length: N }, () =>
        deliver({
          id: `evt_${randomUUID()}`,
          type: 'refund.succeeded',
          provider_reference: payment.provider_reference,
          amount: 400,
          refund_reference: 're_once',
        }),
      ),
    );
    expect(statuses(answers)).toEqual(Array(N).fill(200));
    const now = await readPayment(payment);
    expect(now).toMatchObject({ amount_refunded: 400, status: 'partially_refunded' });
    expect(now.refunds).toHaveLength(1);
    expect(now.events.filter((e) => e.applied)).toHaveLength(1);
    expect(await money(order)).toEqual({
      status: 'paid',
      amount_paid: 600,
      payment_status: 'partially_refunded',
      paid_entries: 1,
    });
  });

  it('keeps money adding up when refunds race a cancellation: everything captured ends up refunded once', async () => {
    const order = await anOrderOf1000();
    const payment = await payOk(order);
    const answers = await Promise.all([
      ...Array.from({ length: 5 }, () =>
        send(app, admin, 'POST', `/payments/${payment.id}/refunds`, { amount: 150, reason: 'race' }),
      ),
      send(app, admin, 'POST', `/orders/${order.id}/cancel`),
      ...Array.from({ length: 5 }, () =>
        send(app, admin, 'POST', `/payments/${payment.id}/refunds`, { amount: 150, reason: 'race' }),
      ),
    ]);
    expect(answers[5]!.statusCode, answers[5]!.body).toBe(200);
    for (const answer of answers) expect([200, 201, 409]).toContain(answer.statusCode);
    const now = await readPayment(payment);
    expect(now).toMatchObject({ status: 'refunded', amount_captured: 1000, amount_refunded: 1000 });
    expect(await money(order)).toEqual({
      status: 'cancelled',
      amount_paid: 0,
      payment_status: 'refunded',
      paid_entries: 1,
    });
  });
});
