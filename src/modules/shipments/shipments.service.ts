import { randomUUID } from 'node:crypto';
import type { Db } from '../../db/client.js';
import { pgErrorOf } from '../../db/errors.js';
import type { FulfillmentStatus, ShipmentStatus } from '../../db/schema/index.js';
import { inTransaction } from '../../db/transaction.js';
import { actorLabel, type Actor } from '../../lib/actor.js';
import { conflict, invalidField, notFound } from '../../lib/errors.js';
import type { Order } from '../orders/orders.schemas.js';
import type { OrderRow } from '../orders/orders.repository.js';
import type { OrdersService } from '../orders/orders.service.js';
import type { CarrierEventBody, CreateShipmentBody, EventBody, Shipment } from './shipments.schemas.js';
import * as repo from './shipments.repository.js';

type Line = { order_item_id: number; quantity: number };
type Parcel = { carrier: string; trackingNumber: string | null; trackingUrl: string | null };
type NewEvent = {
  eventId: string;
  status: ShipmentStatus;
  occurredAt: Date;
  location: string | null;
  description: string | null;
};

const newEventId = () => `evt_${randomUUID()}`;

function toShipment(row: repo.ShipmentRow, items: repo.ShipmentItemRow[], events: repo.ShipmentEventRow[]): Shipment {
  return {
    id: row.id,
    order_id: row.orderId,
    carrier: row.carrier,
    tracking_number: row.trackingNumber,
    tracking_url: row.trackingUrl,
    status: row.status,
    items: items.map((i) => ({ order_item_id: i.orderItemId, quantity: i.quantity })),
    created_at: row.createdAt.toISOString(),
    events: events.map((e) => ({
      id: e.eventId,
      status: e.status,
      occurred_at: e.occurredAt.toISOString(),
      location: e.location,
      description: e.description,
    })),
  };
}

/** Each ordered item with what is left of it to ship. */
const remainingOf = (order: Order, shipped: Map<number, number>) =>
  order.items.map((item) => ({ id: item.id, left: item.quantity - (shipped.get(item.id) ?? 0) }));

type Deps = { db: Db; orders: OrdersService };

/** Parcels of an order and their tracking; the order follows them through orders.followFulfilment. */
export function createShipmentsService({ db, orders }: Deps) {
  /** Items and events for a set of shipments: two queries whatever their number. */
  async function present(executor: Db, rows: repo.ShipmentRow[]): Promise<Shipment[]> {
    const ids = rows.map((r) => r.id);
    const items = await repo.itemsOf(executor, ids);
    const events = await repo.eventsOf(executor, ids);
    return rows.map((r) =>
      toShipment(
        r,
        items.filter((i) => i.shipmentId === r.id),
        events.filter((e) => e.shipmentId === r.id),
      ),
    );
  }

  /** Recomputes where the order's parcels stand and lets the order follow; the order is locked by the caller. */
  async function sync(tx: Db, order: Order, by: string): Promise<void> {
    const shipped = await repo.shippedByItem(tx, order.id);
    const left = remainingOf(order, shipped);
    const anyShipped = [...shipped.values()].some((q) => q > 0);
    const fulfillmentStatus: FulfillmentStatus = left.every((l) => l.left <= 0)
      ? 'fulfilled'
      : anyShipped
        ? 'partially_fulfilled'
        : 'unfulfilled';
    const parcels = await repo.shipmentsOfOrder(tx, order.id);
    const allDelivered = parcels.length > 0 && parcels.every((p) => p.status === 'delivered');
    let deliveredAt: Date | null = null;
    if (allDelivered) {
      // Events come oldest first, so the last one seen per parcel is its delivery.
      const lastOf = new Map<number, Date>();
      for (const e of await repo.eventsOf(
        tx,
        parcels.map((p) => p.id),
      ))
        lastOf.set(e.shipmentId, e.occurredAt);
      deliveredAt = new Date(Math.max(...[...lastOf.values()].map((d) => d.getTime())));
    }
    await orders.followFulfilment(tx, order.id, { fulfillmentStatus, allDelivered, deliveredAt }, by);
  }

  async function ship(tx: Db, order: Order, lines: Line[] | undefined, parcel: Parcel, by: string) {
    if (order.status !== 'paid') {
      throw conflict('ORDER_NOT_SHIPPABLE', `the order is ${order.status}; only a paid order ships`, undefined, {
        current_status: order.status,
      });
    }
    if (order.payment_status === 'refunded') {
      throw conflict('ORDER_NOT_SHIPPABLE', 'the order has been refunded; it no longer ships', undefined, {
        payment_status: order.payment_status,
      });
    }
    const left = new Map(remainingOf(order, await repo.shippedByItem(tx, order.id)).map((l) => [l.id, l.left]));
    const wanted =
      lines ??
      [...left].filter(([, quantity]) => quantity > 0).map(([id, quantity]) => ({ order_item_id: id, quantity }));
    if (wanted.length === 0) throw conflict('NOTHING_TO_SHIP', 'every item of the order is already shipped');
    const seen = new Set<number>();
    wanted.forEach((line, index) => {
      const field = `items[${index}].order_item_id`;
      if (!left.has(line.order_item_id)) {
        throw invalidField(field, `order item ${line.order_item_id} is not in this order`, 'ORDER_ITEM_NOT_FOUND');
      }
      if (seen.has(line.order_item_id)) {
        throw invalidField(field, `order item ${line.order_item_id} appears more than once`, 'DUPLICATE_ITEM');
      }
      seen.add(line.order_item_id);
    });
    wanted.forEach((line, index) => {
      const open = left.get(line.order_item_id)!;
      if (line.quantity > open) {
        throw conflict(
          'QUANTITY_EXCEEDS_UNSHIPPED',
          `only ${open} of order item ${line.order_item_id} is left to ship`,
          [{ field: `items[${index}].quantity`, message: `must not exceed ${open}` }],
        );
      }
    });
    if (parcel.trackingNumber !== null && (await repo.findByTracking(tx, parcel.carrier, parcel.trackingNumber))) {
      throw trackingTaken();
    }
    let row: repo.ShipmentRow;
    try {
      row = await repo.insertShipment(tx, { orderId: order.id, ...parcel, status: 'label_created' });
    } catch (error) {
      // Two parcels given the same number at the same moment: the unique constraint settles it.
      if (pgErrorOf(error)?.constraint === 'shipments_carrier_tracking_number_key') throw trackingTaken();
      throw error;
    }
    await repo.insertItems(
      tx,
      wanted.map((l) => ({ shipmentId: row.id, orderItemId: l.order_item_id, quantity: l.quantity })),
    );
    await repo.insertEvent(tx, {
      shipmentId: row.id,
      eventId: newEventId(),
      status: 'label_created',
      occurredAt: new Date(),
      location: null,
      description: 'label created',
      source: by,
    });
    await sync(tx, order, by);
    return row;
  }

  /** Records one event; a repeated id changes nothing. The parcel takes the status of its latest event. */
  async function track(tx: Db, shipment: repo.ShipmentRow, order: OrderRow, event: NewEvent, by: string) {
    const inserted = await repo.insertEvent(tx, { shipmentId: shipment.id, ...event, source: by });
    if (!inserted) return;
    const latest = (await repo.latestEvent(tx, shipment.id))!;
    if (latest.status !== shipment.status) await repo.setStatus(tx, shipment.id, latest.status);
    await sync(tx, await orders.describe(tx, order), by);
  }

  /** The shipment with its order locked, if the caller may see the order (else it counts as missing). */
  async function lockVisible(tx: Db, id: number, actor: Actor | null) {
    const found = await repo.findShipment(tx, id);
    if (!found) throw notFound('shipment');
    const order = await orders.lockVisible(tx, found.orderId, actor).catch(() => undefined);
    if (!order) throw notFound('shipment');
    return { shipment: (await repo.findShipment(tx, id, true))!, order };
  }

  return {
    async create(orderId: number, input: CreateShipmentBody, actor: Actor | null, executor: Db = db) {
      return inTransaction(executor, async (tx) => {
        const order = await orders.lockVisible(tx, orderId, actor);
        const parcel = {
          carrier: input.carrier,
          trackingNumber: input.tracking_number,
          trackingUrl: input.tracking_url ?? null,
        };
        const row = await ship(tx, await orders.describe(tx, order), input.items, parcel, actorLabel(actor));
        return (await present(tx, [(await repo.findShipment(tx, row.id))!]))[0]!;
      });
    },

    async listOfOrder(orderId: number, actor: Actor | null): Promise<Shipment[]> {
      await orders.get(orderId, actor);
      return present(db, await repo.shipmentsOfOrder(db, orderId));
    },

    async get(id: number, actor: Actor | null): Promise<Shipment> {
      const row = await repo.findShipment(db, id);
      if (!row) throw notFound('shipment');
      await orders.get(row.orderId, actor).catch(() => Promise.reject(notFound('shipment')));
      return (await present(db, [row]))[0]!;
    },

    async addEvent(id: number, input: EventBody, actor: Actor | null, executor: Db = db): Promise<Shipment> {
      return inTransaction(executor, async (tx) => {
        const { shipment, order } = await lockVisible(tx, id, actor);
        await track(tx, shipment, order, eventOf(input), actorLabel(actor));
        return (await present(tx, [(await repo.findShipment(tx, id))!]))[0]!;
      });
    },

    /** A verified carrier event: 404 when no parcel of that carrier has the tracking number. */
    async applyCarrierEvent(carrier: string, input: CarrierEventBody): Promise<void> {
      await inTransaction(db, async (tx) => {
        const found = await repo.findByTracking(tx, carrier, input.tracking_number);
        if (!found) throw notFound('shipment');
        const order = await orders.lockVisible(tx, found.orderId, null);
        const shipment = (await repo.findShipment(tx, found.id, true))!;
        await track(tx, shipment, order, eventOf(input), `carrier:${carrier}`);
      });
    },

    /** Units of each order item in any shipment (returns are measured against it). */
    shippedByItem: (executor: Db, orderId: number) => repo.shippedByItem(executor, orderId),

    /** The order's side of fulfilment, attached with orders.attachFulfilment. */
    hooks: {
      async assertCancellable(tx: Db, order: OrderRow): Promise<void> {
        if ((await repo.shipmentsOfOrder(tx, order.id)).length > 0) {
          throw conflict(
            'ORDER_HAS_SHIPMENTS',
            'the order has shipments and can no longer be cancelled; a return is the way back',
            undefined,
            { current_status: order.status },
          );
        }
      },
      async complete(tx: Db, order: OrderRow, status: 'shipped' | 'delivered', by: string): Promise<void> {
        if (status === 'shipped') {
          const parcel = { carrier: 'other', trackingNumber: null, trackingUrl: null };
          await ship(tx, await orders.describe(tx, order), undefined, parcel, by);
          return;
        }
        const now = new Date();
        for (const shipment of await repo.shipmentsOfOrder(tx, order.id)) {
          if (shipment.status === 'delivered') continue;
          const event = { eventId: newEventId(), status: 'delivered' as const, occurredAt: now };
          await track(tx, shipment, order, { ...event, location: null, description: 'marked delivered by staff' }, by);
        }
      },
    },
  };
}

function eventOf(input: EventBody | CarrierEventBody): NewEvent {
  return {
    eventId: input.id ?? newEventId(),
    status: input.status,
    occurredAt: new Date(input.occurred_at),
    location: input.location ?? null,
    description: input.description ?? null,
  };
}

const trackingTaken = () =>
  conflict('TRACKING_NUMBER_TAKEN', 'this carrier already has a shipment with this tracking number', [
    { field: 'tracking_number', message: 'is already taken for this carrier' },
  ]);

export type ShipmentsService = ReturnType<typeof createShipmentsService>;
