import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../app.js';
import { createTestApp } from '../../../test/app.js';
import { aSignedInCustomer, expectStatus, type Customer } from '../../../test/factories.js';
import { staff, type Caller } from '../../../test/http.js';
import {
  aPaidOrder,
  expectOrder,
  signedCarrierEvent,
  stockOf,
  type Return,
  type Shipment,
} from '../../../test/fulfilment.js';

/**
 * One order from payment to a refunded return: paid with the test gateway, shipped in two parcels, tracked by
 * carrier webhooks that arrive twice and out of order, delivered, partly returned and refunded. Every step checks
 * the order's status, money and fulfilment, and each product's stock against its ledger.
 */
describe('an order walked from payment to a refunded return', () => {
  let app: App;
  let admin: Caller;
  let owner: Caller & { customer: Customer };

  beforeAll(async () => {
    app = await createTestApp({ paymentWebhookSecret: 'whsec_test', carrierWebhookSecret: 'whsec_carrier' });
    admin = await staff(app);
    owner = await aSignedInCustomer(app);
  });
  afterAll(async () => app.close());

  it('ships in two parcels, follows their tracking, delivers, and refunds a partial return', async () => {
    const { order, mug, lamp, mugLine, lampLine } = await aPaidOrder(app, admin, owner);
    const stocks = async () => [await stockOf(app, admin, mug), await stockOf(app, admin, lamp)];
    expect(await stocks()).toEqual([7, 3]);
    await expectOrder(app, owner, order.id, {
      status: 'paid',
      amount_paid: 8000,
      payment_status: 'paid',
      fulfillment_status: 'unfulfilled',
    });

    // Parcel one: two mugs and both lamps.
    const first = await expectStatus<Shipment>(app, admin, 201, 'POST', `/orders/${order.id}/shipments`, {
      carrier: 'ups',
      tracking_number: '1Z-WALK-1',
      tracking_url: 'https://ups.example/track/1Z-WALK-1',
      items: [
        { order_item_id: mugLine.id, quantity: 2 },
        { order_item_id: lampLine.id, quantity: 2 },
      ],
    });
    expect(first).toMatchObject({ order_id: order.id, carrier: 'ups', status: 'label_created' });
    expect(first.events.map((e) => e.status)).toEqual(['label_created']);
    await expectOrder(app, owner, order.id, { status: 'paid', fulfillment_status: 'partially_fulfilled' });
    expect(await stocks()).toEqual([7, 3]);

    // Parcel two: whatever is left (the third mug), by default.
    const second = await expectStatus<Shipment>(app, admin, 201, 'POST', `/orders/${order.id}/shipments`, {
      carrier: 'dhl',
      tracking_number: 'JD-WALK-2',
    });
    expect(second.items).toEqual([{ order_item_id: mugLine.id, quantity: 1 }]);
    let current = await expectOrder(app, owner, order.id, {
      status: 'shipped',
      amount_paid: 8000,
      payment_status: 'paid',
      fulfillment_status: 'fulfilled',
    });
    expect(current.delivered_at).toBeNull();

    // Tracking happens after the labels were made: each event a few seconds on from now.
    const base = Date.now();
    const at = (seconds: number) => new Date(base + seconds * 1000).toISOString();

    // Parcel one's events arrive late, twice, and out of order: the status is that of the latest occurred_at.
    const track1 = (id: string, status: string, at: string) =>
      signedCarrierEvent(app, 'ups', { id, tracking_number: '1Z-WALK-1', status, occurred_at: at, location: 'Hub' });
    await track1('ups-3', 'delivered', at(3));
    await track1('ups-1', 'in_transit', at(1));
    await track1('ups-3', 'delivered', at(3));
    await track1('ups-2', 'out_for_delivery', at(2));
    await track1('ups-1', 'in_transit', at(1));
    const tracked = await expectStatus<Shipment>(app, owner, 200, 'GET', `/shipments/${first.id}`);
    expect(tracked.status).toBe('delivered');
    expect(tracked.events.map((e) => e.id).slice(1)).toEqual(['ups-1', 'ups-2', 'ups-3']);
    await expectOrder(app, owner, order.id, { status: 'shipped', fulfillment_status: 'fulfilled' });

    // Parcel two: delivered arrives first, then twice more, then an earlier in_transit.
    const deliveredAt = at(6);
    const track2 = (id: string, status: string, at: string) =>
      signedCarrierEvent(app, 'dhl', { id, tracking_number: 'JD-WALK-2', status, occurred_at: at });
    await track2('dhl-2', 'delivered', deliveredAt);
    await track2('dhl-2', 'delivered', deliveredAt);
    await track2('dhl-1', 'in_transit', at(4));
    await track2('dhl-2', 'delivered', deliveredAt);
    current = await expectOrder(app, owner, order.id, {
      status: 'delivered',
      amount_paid: 8000,
      payment_status: 'paid',
      fulfillment_status: 'fulfilled',
    });
    expect(current.delivered_at).toBe(deliveredAt);
    expect(current.status_history.map((h) => [h.status, h.by])).toEqual([
      ['pending', `customer:${owner.customer.id}`],
      ['paid', `customer:${owner.customer.id}`],
      ['shipped', expect.stringMatching(/^staff:\d+$/)],
      ['delivered', 'carrier:dhl'],
    ]);
    const parcels = await expectStatus<Shipment[]>(app, owner, 200, 'GET', `/orders/${order.id}/shipments`);
    expect(parcels.map((p) => [p.id, p.status, p.events.length])).toEqual([
      [first.id, 'delivered', 4],
      [second.id, 'delivered', 3],
    ]);
    expect(await stocks()).toEqual([7, 3]);

    // The customer sends two mugs back; nothing moves until staff receive them.
    const asked = await expectStatus<Return>(app, owner, 201, 'POST', `/orders/${order.id}/returns`, {
      items: [{ order_item_id: mugLine.id, quantity: 2 }],
      reason: 'chipped',
    });
    expect(asked).toMatchObject({ status: 'requested', refund_amount: 2000, reason: 'chipped' });
    await expectOrder(app, owner, order.id, { status: 'delivered', amount_paid: 8000, payment_status: 'paid' });
    expect(await stocks()).toEqual([7, 3]);

    const received = await expectStatus<Return>(app, admin, 200, 'POST', `/returns/${asked.id}/receive`);
    expect(received.status).toBe('received');
    expect(await stocks()).toEqual([9, 3]);
    await expectOrder(app, owner, order.id, {
      status: 'delivered',
      amount_paid: 6000,
      payment_status: 'partially_refunded',
      fulfillment_status: 'fulfilled',
    });
    const movements = await expectStatus<{ type: string; quantity: number; order_id: number }[]>(
      app,
      admin,
      200,
      'GET',
      `/products/${mug.id}/inventory-movements`,
    );
    expect(movements.at(-1)).toMatchObject({ type: 'return', quantity: 2, order_id: order.id });
    const [payment] = await expectStatus<{ amount_refunded: number; status: string }[]>(
      app,
      owner,
      200,
      'GET',
      `/orders/${order.id}/payments`,
    );
    expect(payment).toMatchObject({ amount_refunded: 2000, status: 'partially_refunded' });
    expect(await expectStatus<Return[]>(app, owner, 200, 'GET', `/orders/${order.id}/returns`)).toEqual([received]);
  });
});
