import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../app.js';
import { createTestApp } from '../../../test/app.js';
import { anOrder, aSignedInCustomer, expectStatus, type Customer } from '../../../test/factories.js';
import { anonymous, send, staff, type Caller } from '../../../test/http.js';
import { signPayload } from '../payments/providers/signature.js';
import {
  aPaidOrder,
  carrierEvent,
  expectOrder,
  getOrder,
  stockOf,
  type FulfilledOrder,
  type Shipment,
} from '../../../test/fulfilment.js';

type Problem = { code: string; status: number; errors?: { field: string }[] };

describe('shipments', () => {
  let app: App;
  let admin: Caller;
  let owner: Caller & { customer: Customer };
  let other: Caller & { customer: Customer };
  let seq = 0;
  const tracking = () => `TRK-${Date.now()}-${seq++}`;

  beforeAll(async () => {
    app = await createTestApp({ paymentWebhookSecret: 'whsec_test', carrierWebhookSecret: 'whsec_carrier' });
    admin = await staff(app);
    owner = await aSignedInCustomer(app);
    other = await aSignedInCustomer(app);
  });
  afterAll(async () => app.close());

  const shipmentsOf = (orderId: number) =>
    expectStatus<Shipment[]>(app, admin, 200, 'GET', `/orders/${orderId}/shipments`);

  /** Sends a request that must be refused with `status` (and `code`), then checks the order did not change. */
  async function refused(caller: Caller, status: number, url: string, body: unknown, orderId: number, code?: string) {
    const before = await getOrder(app, admin, orderId);
    const shipmentsBefore = await shipmentsOf(orderId);
    const response = await send(app, caller, 'POST', url, body);
    expect(response.statusCode, response.body).toBe(status);
    if (code) expect(response.json<Problem>().code).toBe(code);
    expect(await getOrder(app, admin, orderId)).toEqual(before);
    expect(await shipmentsOf(orderId)).toEqual(shipmentsBefore);
    return response.json<Problem>();
  }

  it('answers 409 to shipping an unpaid order, and changes nothing', async () => {
    const { order } = await aPaidOrder(app, admin, owner);
    const pending = await anOrder(app, owner, { items: [{ product_id: order.items[0]!.product_id, quantity: 1 }] });
    await refused(
      admin,
      409,
      `/orders/${pending.id}/shipments`,
      { carrier: 'ups', tracking_number: tracking() },
      pending.id,
      'ORDER_NOT_SHIPPABLE',
    );
  });

  it('answers 409 to shipping an order whose payment was refunded in full, and changes nothing', async () => {
    const { order } = await aPaidOrder(app, admin, owner);
    const [payment] = await expectStatus<{ id: number }[]>(app, admin, 200, 'GET', `/orders/${order.id}/payments`);
    await expectStatus(app, admin, 201, 'POST', `/payments/${payment!.id}/refunds`, { amount: 8000, reason: 'fraud' });
    await refused(
      admin,
      409,
      `/orders/${order.id}/shipments`,
      { carrier: 'ups', tracking_number: tracking() },
      order.id,
      'ORDER_NOT_SHIPPABLE',
    );
    const patch = await send(app, admin, 'PATCH', `/orders/${order.id}`, { status: 'shipped' });
    expect(patch.statusCode, patch.body).toBe(409);
    expect((await getOrder(app, admin, order.id)).status).toBe('paid');
  });

  it('answers 409 to more than is left unshipped of an item, and 400 to an item of another order', async () => {
    const { order, mugLine } = await aPaidOrder(app, admin, owner);
    const url = `/orders/${order.id}/shipments`;
    await expectStatus(app, admin, 201, 'POST', url, {
      carrier: 'ups',
      tracking_number: tracking(),
      items: [{ order_item_id: mugLine.id, quantity: 2 }],
    });
    const tooMany = await refused(
      admin,
      409,
      url,
      {
        carrier: 'ups',
        tracking_number: tracking(),
        items: [{ order_item_id: mugLine.id, quantity: 2 }],
      },
      order.id,
      'QUANTITY_EXCEEDS_UNSHIPPED',
    );
    expect(tooMany.errors?.[0]?.field).toBe('items[0].quantity');
    const elsewhere = await aPaidOrder(app, admin, owner);
    await refused(
      admin,
      400,
      url,
      {
        carrier: 'ups',
        tracking_number: tracking(),
        items: [{ order_item_id: elsewhere.mugLine.id, quantity: 1 }],
      },
      order.id,
      'ORDER_ITEM_NOT_FOUND',
    );
  });

  it('answers 409 to a tracking number the carrier already has; another carrier may reuse it', async () => {
    const first = await aPaidOrder(app, admin, owner);
    const second = await aPaidOrder(app, admin, owner);
    const number = tracking();
    await expectStatus(app, admin, 201, 'POST', `/orders/${first.order.id}/shipments`, {
      carrier: 'ups',
      tracking_number: number,
      items: [{ order_item_id: first.mugLine.id, quantity: 1 }],
    });
    await refused(
      admin,
      409,
      `/orders/${second.order.id}/shipments`,
      { carrier: 'ups', tracking_number: number },
      second.order.id,
      'TRACKING_NUMBER_TAKEN',
    );
    await refused(
      admin,
      409,
      `/orders/${first.order.id}/shipments`,
      { carrier: 'ups', tracking_number: number },
      first.order.id,
      'TRACKING_NUMBER_TAKEN',
    );
    await expectStatus(app, admin, 201, 'POST', `/orders/${second.order.id}/shipments`, {
      carrier: 'fedex',
      tracking_number: number,
    });
  });

  it('answers 400 to a carrier name outside lowercase letters, digits, - and _', async () => {
    const { order } = await aPaidOrder(app, admin, owner);
    for (const carrier of ['UPS', 'royal mail', 'a'.repeat(51), '']) {
      await refused(admin, 400, `/orders/${order.id}/shipments`, { carrier, tracking_number: tracking() }, order.id);
    }
  });

  it('is staff only to ship or add events (403 for customers, 401 without a token); other customers see 404', async () => {
    const { order } = await aPaidOrder(app, admin, owner);
    const body = { carrier: 'ups', tracking_number: tracking() };
    await refused(owner, 403, `/orders/${order.id}/shipments`, body, order.id, 'FORBIDDEN');
    await refused(anonymous, 401, `/orders/${order.id}/shipments`, body, order.id);
    const shipment = await expectStatus<Shipment>(app, admin, 201, 'POST', `/orders/${order.id}/shipments`, body);
    const event = { status: 'in_transit', occurred_at: new Date().toISOString() };
    await refused(owner, 403, `/shipments/${shipment.id}/events`, event, order.id);
    await refused(anonymous, 401, `/shipments/${shipment.id}/events`, event, order.id);
    expect((await send(app, other, 'GET', `/shipments/${shipment.id}`)).statusCode).toBe(404);
    expect((await send(app, other, 'GET', `/orders/${order.id}/shipments`)).statusCode).toBe(404);
    expect((await send(app, owner, 'GET', `/shipments/${shipment.id}`)).statusCode).toBe(200);
    expect((await send(app, admin, 'GET', '/shipments/2147483647')).statusCode).toBe(404);
  });

  it('takes staff events: a repeated id changes nothing, the status follows the latest occurred_at', async () => {
    const { order } = await aPaidOrder(app, admin, owner);
    const shipment = await expectStatus<Shipment>(app, admin, 201, 'POST', `/orders/${order.id}/shipments`, {
      carrier: 'ups',
      tracking_number: tracking(),
    });
    const later = new Date(Date.now() + 5000).toISOString();
    const url = `/shipments/${shipment.id}/events`;
    const one = await expectStatus<Shipment>(app, admin, 201, 'POST', url, {
      id: 'hub-2',
      status: 'out_for_delivery',
      occurred_at: later,
      location: 'Springfield',
    });
    expect(one.status).toBe('out_for_delivery');
    const again = await expectStatus<Shipment>(app, admin, 201, 'POST', url, {
      id: 'hub-2',
      status: 'exception',
      occurred_at: new Date(Date.now() + 9000).toISOString(),
    });
    expect(again).toEqual(one);
    const earlier = await expectStatus<Shipment>(app, admin, 201, 'POST', url, {
      status: 'in_transit',
      occurred_at: new Date(Date.now() + 1000).toISOString(),
    });
    expect(earlier.status).toBe('out_for_delivery');
    expect(earlier.events.map((e) => e.status)).toEqual(['label_created', 'in_transit', 'out_for_delivery']);
  });

  describe('carrier webhooks', () => {
    it('refuse a bad, missing or stale signature with 400 and change nothing', async () => {
      const { order } = await aPaidOrder(app, admin, owner);
      const number = tracking();
      const shipment = await expectStatus<Shipment>(app, admin, 201, 'POST', `/orders/${order.id}/shipments`, {
        carrier: 'ups',
        tracking_number: number,
      });
      const event = {
        id: 'e1',
        tracking_number: number,
        status: 'delivered',
        occurred_at: new Date(Date.now() + 1000).toISOString(),
      };
      const body = JSON.stringify(event);
      const stale = signPayload(body, 'whsec_carrier', Math.floor(Date.now() / 1000) - 6 * 60);
      for (const signature of [null, 'nonsense', signPayload(body, 'whsec_test'), stale]) {
        const response = await carrierEvent(app, 'ups', event, signature);
        expect(response.statusCode, response.body).toBe(400);
      }
      // Signed for another body.
      const forged = await carrierEvent(
        app,
        'ups',
        { ...event, status: 'exception' },
        signPayload(body, 'whsec_carrier'),
      );
      expect(forged.statusCode).toBe(400);
      expect(await expectStatus<Shipment>(app, admin, 200, 'GET', `/shipments/${shipment.id}`)).toEqual(shipment);
      expect((await getOrder(app, admin, order.id)).status).toBe('shipped');
    });

    it('answer 404 to a tracking number that carrier does not have, and change nothing', async () => {
      const { order } = await aPaidOrder(app, admin, owner);
      const number = tracking();
      const shipment = await expectStatus<Shipment>(app, admin, 201, 'POST', `/orders/${order.id}/shipments`, {
        carrier: 'ups',
        tracking_number: number,
      });
      const at = new Date(Date.now() + 1000).toISOString();
      expect(
        (await carrierEvent(app, 'dhl', { id: 'x1', tracking_number: number, status: 'delivered', occurred_at: at }))
          .statusCode,
      ).toBe(404);
      expect(
        (await carrierEvent(app, 'ups', { id: 'x2', tracking_number: 'nope', status: 'delivered', occurred_at: at }))
          .statusCode,
      ).toBe(404);
      expect(await expectStatus<Shipment>(app, admin, 200, 'GET', `/shipments/${shipment.id}`)).toEqual(shipment);
    });

    it('refuse everything while no CARRIER_WEBHOOK_SECRET is set', async () => {
      const bare = await createTestApp();
      try {
        const response = await carrierEvent(
          bare,
          'ups',
          { id: 'e', tracking_number: 'n', status: 'delivered', occurred_at: new Date().toISOString() },
          undefined,
          '',
        );
        expect(response.statusCode).toBe(400);
      } finally {
        await bare.close();
      }
    });
  });

  describe('PATCH shortcuts', () => {
    it('to shipped makes one parcel of everything left (carrier other, no tracking number); to delivered delivers every parcel', async () => {
      const { order, mug, lamp, mugLine, lampLine } = await aPaidOrder(app, admin, owner);
      const ups = await expectStatus<Shipment>(app, admin, 201, 'POST', `/orders/${order.id}/shipments`, {
        carrier: 'ups',
        tracking_number: tracking(),
        items: [{ order_item_id: mugLine.id, quantity: 1 }],
      });
      const shipped = await expectStatus<FulfilledOrder>(app, admin, 200, 'PATCH', `/orders/${order.id}`, {
        status: 'shipped',
      });
      expect(shipped).toMatchObject({ status: 'shipped', fulfillment_status: 'fulfilled', delivered_at: null });
      const parcels = await shipmentsOf(order.id);
      expect(parcels).toHaveLength(2);
      expect(parcels[1]).toMatchObject({
        carrier: 'other',
        tracking_number: null,
        status: 'label_created',
        items: [
          { order_item_id: mugLine.id, quantity: 2 },
          { order_item_id: lampLine.id, quantity: 2 },
        ],
      });
      const delivered = await expectStatus<FulfilledOrder>(app, admin, 200, 'PATCH', `/orders/${order.id}`, {
        status: 'delivered',
      });
      expect(delivered.status).toBe('delivered');
      expect(delivered.delivered_at).not.toBeNull();
      const after = await shipmentsOf(order.id);
      expect(after.map((p) => p.status)).toEqual(['delivered', 'delivered']);
      expect(after[0]!.events.map((e) => e.status)).toEqual(['label_created', 'delivered']);
      expect(after[0]!.id).toBe(ups.id);
      expect(delivered.status_history.map((h) => h.status)).toEqual(['pending', 'paid', 'shipped', 'delivered']);
      expect([await stockOf(app, admin, mug), await stockOf(app, admin, lamp)]).toEqual([7, 3]);
      await expectOrder(app, owner, order.id, { amount_paid: 8000, payment_status: 'paid' });
    });

    it('refuse to cancel an order with a shipment (409), and stock and money stay as they were', async () => {
      const { order, mug, mugLine } = await aPaidOrder(app, admin, owner);
      await expectStatus(app, admin, 201, 'POST', `/orders/${order.id}/shipments`, {
        carrier: 'ups',
        tracking_number: tracking(),
        items: [{ order_item_id: mugLine.id, quantity: 1 }],
      });
      await refused(admin, 409, `/orders/${order.id}/cancel`, undefined, order.id, 'ORDER_HAS_SHIPMENTS');
      const patch = await send(app, admin, 'PATCH', `/orders/${order.id}`, { status: 'cancelled' });
      expect(patch.statusCode).toBe(409);
      await expectOrder(app, owner, order.id, {
        status: 'paid',
        amount_paid: 8000,
        fulfillment_status: 'partially_fulfilled',
      });
      expect(await stockOf(app, admin, mug)).toBe(7);
    });
  });
});
