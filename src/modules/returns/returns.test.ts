import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../app.js';
import { createTestApp } from '../../../test/app.js';
import { aSignedInCustomer, expectStatus, type Customer } from '../../../test/factories.js';
import { anonymous, send, staff, type Caller } from '../../../test/http.js';
import {
  aPaidOrder,
  expectOrder,
  getOrder,
  signedCarrierEvent,
  stockOf,
  type Return,
  type Shipment,
} from '../../../test/fulfilment.js';

type Problem = { code: string; status: number };

describe('returns', () => {
  let app: App;
  let admin: Caller;
  let owner: Caller & { customer: Customer };
  let other: Caller & { customer: Customer };
  let seq = 0;

  beforeAll(async () => {
    app = await createTestApp({ paymentWebhookSecret: 'whsec_test', carrierWebhookSecret: 'whsec_carrier' });
    admin = await staff(app);
    owner = await aSignedInCustomer(app);
    other = await aSignedInCustomer(app);
  });
  afterAll(async () => app.close());

  /** A paid order shipped in one parcel and delivered by the carrier at `deliveredAt`. */
  async function aDeliveredOrder() {
    const deliveredAt = new Date(Date.now() + 1000);
    const paid = await aPaidOrder(app, admin, owner);
    const number = `RET-${Date.now()}-${seq++}`;
    await expectStatus<Shipment>(app, admin, 201, 'POST', `/orders/${paid.order.id}/shipments`, {
      carrier: 'ups',
      tracking_number: number,
    });
    await signedCarrierEvent(app, 'ups', {
      id: `${number}-d`,
      tracking_number: number,
      status: 'delivered',
      occurred_at: deliveredAt.toISOString(),
    });
    return paid;
  }

  /** What must not move when a request is refused: the order, its returns, and both products' stock. */
  async function snapshot(orderId: number, productIds: { id: number }[]) {
    return {
      order: await getOrder(app, admin, orderId),
      returns: await expectStatus<Return[]>(app, admin, 200, 'GET', `/orders/${orderId}/returns`),
      stock: await Promise.all(productIds.map((p) => stockOf(app, admin, p as never))),
    };
  }

  async function refused(
    caller: Caller,
    status: number,
    url: string,
    body: unknown,
    context: { order: { id: number }; mug: { id: number }; lamp: { id: number } },
    code?: string,
  ) {
    const before = await snapshot(context.order.id, [context.mug, context.lamp]);
    const response = await send(app, caller, 'POST', url, body);
    expect(response.statusCode, response.body).toBe(status);
    if (code) expect(response.json<Problem>().code).toBe(code);
    expect(await snapshot(context.order.id, [context.mug, context.lamp])).toEqual(before);
  }

  it('answers 409 to a customer returning an order not yet delivered; staff may take back what shipped', async () => {
    const paid = await aPaidOrder(app, admin, owner);
    const url = `/orders/${paid.order.id}/returns`;
    const body = { items: [{ order_item_id: paid.mugLine.id, quantity: 1 }], reason: 'changed my mind' };
    await refused(owner, 409, url, body, paid, 'ORDER_NOT_DELIVERED');
    // Staff: nothing shipped yet, so nothing to take back.
    await refused(admin, 409, url, body, paid, 'RETURN_EXCEEDS_SHIPPED');
    await expectStatus(app, admin, 201, 'POST', `/orders/${paid.order.id}/shipments`, {
      carrier: 'ups',
      tracking_number: `RET-${Date.now()}-${seq++}`,
      items: [{ order_item_id: paid.mugLine.id, quantity: 1 }],
    });
    await refused(owner, 409, url, body, paid, 'ORDER_NOT_DELIVERED');
    const taken = await expectStatus<Return>(app, admin, 201, 'POST', url, body);
    expect(taken).toMatchObject({ status: 'requested', refund_amount: 1000 });
    await refused(admin, 409, url, body, paid, 'RETURN_EXCEEDS_SHIPPED');
  });

  it('answers 409 to a customer past RETURN_WINDOW_DAYS after delivery; staff may still take it back', async () => {
    const paid = await aDeliveredOrder();
    // Parcels cannot be made in the past through the API, so the delivery is moved back 31 days in place.
    await app.database.db.execute(
      sql`UPDATE orders SET delivered_at = now() - interval '31 days' WHERE id = ${paid.order.id}`,
    );
    const url = `/orders/${paid.order.id}/returns`;
    const body = { items: [{ order_item_id: paid.lampLine.id, quantity: 1 }], reason: 'late' };
    expect((await getOrder(app, owner, paid.order.id)).status).toBe('delivered');
    await refused(owner, 409, url, body, paid, 'RETURN_WINDOW_CLOSED');
    await expectStatus(app, admin, 201, 'POST', url, body);
  });

  it('never holds more of an item than shipped minus open and received returns; a rejected one frees its units', async () => {
    const paid = await aDeliveredOrder();
    const url = `/orders/${paid.order.id}/returns`;
    const two = { items: [{ order_item_id: paid.mugLine.id, quantity: 2 }], reason: 'too many' };
    const first = await expectStatus<Return>(app, owner, 201, 'POST', url, two);
    await refused(owner, 409, url, two, paid, 'RETURN_EXCEEDS_SHIPPED');
    await expectStatus(app, admin, 200, 'POST', `/returns/${first.id}/reject`);
    const second = await expectStatus<Return>(app, owner, 201, 'POST', url, two);
    await expectStatus(app, admin, 200, 'POST', `/returns/${second.id}/receive`);
    await refused(owner, 409, url, two, paid, 'RETURN_EXCEEDS_SHIPPED');
    await expectStatus(app, owner, 201, 'POST', url, {
      ...two,
      items: [{ order_item_id: paid.mugLine.id, quantity: 1 }],
    });
  });

  it('answers 400 to an item of another order or named twice', async () => {
    const paid = await aDeliveredOrder();
    const elsewhere = await aPaidOrder(app, admin, owner);
    const url = `/orders/${paid.order.id}/returns`;
    await refused(
      owner,
      400,
      url,
      { items: [{ order_item_id: elsewhere.mugLine.id, quantity: 1 }], reason: 'x' },
      paid,
      'ORDER_ITEM_NOT_FOUND',
    );
    const line = { order_item_id: paid.mugLine.id, quantity: 1 };
    await refused(owner, 400, url, { items: [line, line], reason: 'x' }, paid, 'DUPLICATE_ITEM');
    await refused(owner, 400, url, { items: [], reason: 'x' }, paid);
  });

  it('receive and reject answer 409 once the return is no longer requested, and change nothing', async () => {
    const paid = await aDeliveredOrder();
    const url = `/orders/${paid.order.id}/returns`;
    const made = await expectStatus<Return>(app, owner, 201, 'POST', url, {
      items: [{ order_item_id: paid.lampLine.id, quantity: 1 }],
      reason: 'broken',
    });
    const received = await expectStatus<Return>(app, admin, 200, 'POST', `/returns/${made.id}/receive`);
    expect(received.status).toBe('received');
    await expectOrder(app, owner, paid.order.id, { amount_paid: 5500, payment_status: 'partially_refunded' });
    await refused(admin, 409, `/returns/${made.id}/receive`, undefined, paid, 'RETURN_NOT_REQUESTED');
    await refused(admin, 409, `/returns/${made.id}/reject`, undefined, paid, 'RETURN_NOT_REQUESTED');

    const rejected = await expectStatus<Return>(app, owner, 201, 'POST', url, {
      items: [{ order_item_id: paid.lampLine.id, quantity: 1 }],
      reason: 'also broken',
    });
    await expectStatus(app, admin, 200, 'POST', `/returns/${rejected.id}/reject`);
    await refused(admin, 409, `/returns/${rejected.id}/receive`, undefined, paid, 'RETURN_NOT_REQUESTED');
    expect(await stockOf(app, admin, paid.lamp)).toBe(4);
  });

  it('is staff only to receive or reject (403, 401); another customer sees 404', async () => {
    const paid = await aDeliveredOrder();
    const made = await expectStatus<Return>(app, owner, 201, 'POST', `/orders/${paid.order.id}/returns`, {
      items: [{ order_item_id: paid.mugLine.id, quantity: 1 }],
      reason: 'wrong colour',
    });
    for (const action of ['receive', 'reject']) {
      await refused(owner, 403, `/returns/${made.id}/${action}`, undefined, paid, 'FORBIDDEN');
      await refused(other, 403, `/returns/${made.id}/${action}`, undefined, paid, 'FORBIDDEN');
      await refused(anonymous, 401, `/returns/${made.id}/${action}`, undefined, paid);
    }
    expect((await send(app, other, 'GET', `/returns/${made.id}`)).statusCode).toBe(404);
    expect((await send(app, other, 'GET', `/orders/${paid.order.id}/returns`)).statusCode).toBe(404);
    const body = { items: [{ order_item_id: paid.mugLine.id, quantity: 1 }], reason: 'not mine' };
    await refused(other, 404, `/orders/${paid.order.id}/returns`, body, paid, 'ORDER_NOT_FOUND');
    expect(await expectStatus<Return>(app, owner, 200, 'GET', `/returns/${made.id}`)).toEqual(made);
  });

  it('replays a return made with the same Idempotency-Key instead of making a second', async () => {
    const paid = await aDeliveredOrder();
    const body = { items: [{ order_item_id: paid.mugLine.id, quantity: 1 }], reason: 'twice sent' };
    const headers = { 'idempotency-key': `ret-${Date.now()}` };
    const url = `/orders/${paid.order.id}/returns`;
    const first = await send(app, owner, 'POST', url, body, headers);
    const again = await send(app, owner, 'POST', url, body, headers);
    expect([first.statusCode, again.statusCode]).toEqual([201, 201]);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    expect(await expectStatus<Return[]>(app, owner, 200, 'GET', url)).toHaveLength(1);
  });
});
