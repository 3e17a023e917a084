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

type Status = 'pending' | 'paid' | 'shipped' | 'delivered' | 'cancelled';
type History = { status: Status; at: string; by: string };
type LifecycleOrder = Order & { status: Status; status_history: History[] };
type Movement = {
  id: number;
  product_id: number;
  quantity: number;
  type: string;
  reason: string | null;
  order_id: number | null;
  actor: string;
  created_at: string;
};

const STATUSES: Status[] = ['pending', 'paid', 'shipped', 'delivered', 'cancelled'];

/** The lifecycle as the issue states it, written out independently of the code under test. */
const ALLOWED: Record<Status, Status[]> = {
  pending: ['paid', 'cancelled'],
  paid: ['shipped', 'cancelled'],
  shipped: ['delivered'],
  delivered: [],
  cancelled: [],
};

/** The PATCH steps that bring a fresh (pending) order into each state. */
const PATH_TO: Record<Status, Status[]> = {
  pending: [],
  paid: ['paid'],
  shipped: ['paid', 'shipped'],
  delivered: ['paid', 'shipped', 'delivered'],
  cancelled: ['cancelled'],
};

const MISSING_ID = 2_147_483_647;

/** Asserts a problem+json answer with the given status and returns its body. */
function problem(response: LightMyRequestResponse, status: number) {
  expect(response.statusCode, response.body).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = response.json<Record<string, unknown> & { code: string; status: number }>();
  expect(body.status).toBe(status);
  return body;
}

describe('order lifecycle', () => {
  let app: App;
  let caller: Caller;
  let staffLabel: string;
  let owner: Caller & { customer: Customer };
  let ownerLabel: string;
  let stranger: Caller & { customer: Customer };
  let mug: Product;
  let plate: Product;

  beforeAll(async () => {
    app = await createTestApp();
    caller = await staff(app);
    const members = await expectStatus<{ id: number; username: string }[]>(app, caller, 200, 'GET', '/staff?limit=200');
    staffLabel = `staff:${members.find((m) => m.username === TEST_ADMIN.username)!.id}`;
    owner = await aSignedInCustomer(app);
    ownerLabel = `customer:${owner.customer.id}`;
    stranger = await aSignedInCustomer(app);
    mug = await aProduct(app, caller, { stock: 1000, price: 1250 });
    plate = await aProduct(app, caller, { stock: 1000, price: 399 });
  });
  afterAll(async () => app.close());

  const stockOf = async (product: Product) =>
    (await expectStatus<Product>(app, caller, 200, 'GET', `/products/${product.id}`)).stock;
  const stocks = () => Promise.all([mug, plate].map(stockOf));
  const read = (order: Order, who: Caller = caller) =>
    expectStatus<LifecycleOrder>(app, who, 200, 'GET', `/orders/${order.id}`);

  /** Every movement of a product, following the Link header. */
  async function movementsOf(product: Product): Promise<Movement[]> {
    const all: Movement[] = [];
    let next: string | undefined = `/products/${product.id}/inventory-movements?limit=200`;
    while (next) {
      const response = await send(app, caller, 'GET', next);
      expect(response.statusCode, response.body).toBe(200);
      all.push(...response.json<Movement[]>());
      const link = response.headers.link as string | undefined;
      next = link ? /^<([^>]+)>; rel="next"$/.exec(link)?.[1] : undefined;
    }
    return all;
  }

  /** An order of 2 mugs and 3 plates placed by its owner, then moved by staff into `status`. */
  async function orderIn(status: Status): Promise<LifecycleOrder> {
    let order = await anOrder(app, owner, {
      items: [
        { product_id: mug.id, quantity: 2 },
        { product_id: plate.id, quantity: 3 },
      ],
    });
    for (const step of PATH_TO[status]) {
      order = await expectStatus<Order>(app, caller, 200, 'PATCH', `/orders/${order.id}`, { status: step });
    }
    expect(order.status).toBe(status);
    return order as LifecycleOrder;
  }

  const pairs = STATUSES.flatMap((from) => STATUSES.map((to) => [from, to] as [Status, Status]));

  describe('PATCH /orders/{id} by staff', () => {
    it.each(pairs.filter(([from, to]) => ALLOWED[from].includes(to)))(
      'moves %s → %s: 200, the new status, and one more history entry by the staff member',
      async (from, to) => {
        const order = await orderIn(from);
        const before = await stocks();
        const response = await send(app, caller, 'PATCH', `/orders/${order.id}`, { status: to });
        expect(response.statusCode, response.body).toBe(200);
        const moved = response.json<LifecycleOrder>();
        expect(moved.status).toBe(to);
        expect(moved.status_history).toHaveLength(order.status_history.length + 1);
        expect(moved.status_history.slice(0, -1)).toEqual(order.status_history);
        expect(moved.status_history.at(-1)).toEqual({ status: to, at: expect.any(String), by: staffLabel });
        expect(moved).toMatchObject({ items: order.items, total: order.total, customer_id: order.customer_id });
        expect(await read(order)).toEqual(moved);
        // Only a cancellation moves stock, and it puts back exactly what the order took.
        expect(await stocks()).toEqual(to === 'cancelled' ? [before[0]! + 2, before[1]! + 3] : before);
      },
    );

    it.each(pairs.filter(([from, to]) => !ALLOWED[from].includes(to)))(
      'refuses %s → %s with 409 naming the current state and the allowed next ones, and changes nothing',
      async (from, to) => {
        const order = await orderIn(from);
        const before = await stocks();
        const body = problem(await send(app, caller, 'PATCH', `/orders/${order.id}`, { status: to }), 409);
        expect(body.code).toBe('INVALID_STATUS_TRANSITION');
        expect(body.current_status).toBe(from);
        expect([...(body.allowed_statuses as string[])].sort()).toEqual([...ALLOWED[from]].sort());
        expect(await read(order)).toEqual(order);
        expect(await stocks()).toEqual(before);
      },
    );

    it('answers 403 to a customer, even for their own order, and changes nothing', async () => {
      const order = await orderIn('pending');
      const body = problem(await send(app, owner, 'PATCH', `/orders/${order.id}`, { status: 'paid' }), 403);
      expect(body.code).toBe('FORBIDDEN');
      problem(await send(app, anonymous, 'PATCH', `/orders/${order.id}`, { status: 'paid' }), 401);
      expect(await read(order)).toEqual(order);
    });

    it('answers 400 for an unknown status or extra fields, 404 for an unknown order', async () => {
      const order = await orderIn('pending');
      for (const payload of [{ status: 'lost' }, {}, { status: 'paid', total: 0 }]) {
        problem(await send(app, caller, 'PATCH', `/orders/${order.id}`, payload), 400);
      }
      problem(await send(app, caller, 'PATCH', `/orders/${MISSING_ID}`, { status: 'paid' }), 404);
      expect(await read(order)).toEqual(order);
    });
  });

  describe('POST /orders/{id}/cancel', () => {
    it('lets the owner cancel while pending: 200, stock restored exactly, cancellation movements with the order id', async () => {
      const before = await stocks();
      const order = await orderIn('pending');
      expect(await stocks()).toEqual([before[0]! - 2, before[1]! - 3]);

      const response = await send(app, owner, 'POST', `/orders/${order.id}/cancel`);
      expect(response.statusCode, response.body).toBe(200);
      const cancelled = response.json<LifecycleOrder>();
      expect(cancelled.status).toBe('cancelled');
      expect(cancelled.status_history).toEqual([
        { status: 'pending', at: expect.any(String), by: ownerLabel },
        { status: 'cancelled', at: expect.any(String), by: ownerLabel },
      ]);
      expect(await read(order, owner)).toEqual(cancelled);
      expect(await stocks()).toEqual(before);

      for (const [product, quantity] of [
        [mug, 2],
        [plate, 3],
      ] as const) {
        const mine = (await movementsOf(product)).filter((m) => m.order_id === order.id);
        expect(mine).toEqual([
          expect.objectContaining({ product_id: product.id, quantity: -quantity, type: 'order', actor: ownerLabel }),
          expect.objectContaining({
            product_id: product.id,
            quantity,
            type: 'cancellation',
            order_id: order.id,
            actor: ownerLabel,
          }),
        ]);
      }
    });

    it('answers 409 to the owner once the order is paid, and changes nothing', async () => {
      const order = await orderIn('paid');
      const before = await stocks();
      const body = problem(await send(app, owner, 'POST', `/orders/${order.id}/cancel`), 409);
      expect(body).toMatchObject({ code: 'INVALID_STATUS_TRANSITION', current_status: 'paid' });
      expect(body.allowed_statuses).toEqual(expect.any(Array));
      expect(await read(order)).toEqual(order);
      expect(await stocks()).toEqual(before);
    });

    it('lets staff cancel a paid order: 200 and the stock comes back', async () => {
      const order = await orderIn('paid');
      const before = await stocks();
      const cancelled = await expectStatus<LifecycleOrder>(app, caller, 200, 'POST', `/orders/${order.id}/cancel`);
      expect(cancelled.status).toBe('cancelled');
      expect(cancelled.status_history.map((h) => [h.status, h.by])).toEqual([
        ['pending', ownerLabel],
        ['paid', staffLabel],
        ['cancelled', staffLabel],
      ]);
      expect(await stocks()).toEqual([before[0]! + 2, before[1]! + 3]);
    });

    it.each<Status>(['shipped', 'delivered', 'cancelled'])(
      'answers 409 to staff for a %s order, naming the state, and puts no stock back',
      async (status) => {
        const order = await orderIn(status);
        const before = await stocks();
        const body = problem(await send(app, caller, 'POST', `/orders/${order.id}/cancel`), 409);
        expect(body).toMatchObject({ current_status: status, allowed_statuses: ALLOWED[status] });
        expect(await read(order)).toEqual(order);
        expect(await stocks()).toEqual(before);
      },
    );

    it('answers 404 to another customer, as if the order did not exist, and changes nothing', async () => {
      const order = await orderIn('pending');
      const before = await stocks();
      const body = problem(await send(app, stranger, 'POST', `/orders/${order.id}/cancel`), 404);
      expect(body.code).toBe('ORDER_NOT_FOUND');
      problem(await send(app, stranger, 'POST', `/orders/${MISSING_ID}/cancel`), 404);
      problem(await send(app, anonymous, 'POST', `/orders/${order.id}/cancel`), 401);
      expect(await read(order)).toEqual(order);
      expect(await stocks()).toEqual(before);
    });

    it('lets staff cancel an order a customer placed for themselves, and one staff placed for a customer', async () => {
      const customer = await aCustomer(app, caller);
      const order = await anOrder(app, caller, {
        customer_id: customer.id,
        items: [{ product_id: mug.id, quantity: 1 }],
      });
      const cancelled = await expectStatus<LifecycleOrder>(app, caller, 200, 'POST', `/orders/${order.id}/cancel`);
      expect(cancelled.status_history.map((h) => h.by)).toEqual([staffLabel, staffLabel]);
    });
  });

  describe('status history', () => {
    it('grows with every move, oldest first, each entry naming who made it and when', async () => {
      const placed = await orderIn('pending');
      expect(placed.status_history).toEqual([{ status: 'pending', at: expect.any(String), by: ownerLabel }]);
      let order: LifecycleOrder = placed;
      for (const status of ['paid', 'shipped', 'delivered'] as const) {
        order = await expectStatus<LifecycleOrder>(app, caller, 200, 'PATCH', `/orders/${order.id}`, { status });
      }
      expect(order.status_history.map((h) => [h.status, h.by])).toEqual([
        ['pending', ownerLabel],
        ['paid', staffLabel],
        ['shipped', staffLabel],
        ['delivered', staffLabel],
      ]);
      const times = order.status_history.map((h) => Date.parse(h.at));
      expect(times.every((t) => Number.isFinite(t))).toBe(true);
      expect([...times].sort((a, b) => a - b)).toEqual(times);
      expect(order.status_history.map((h) => h.at)).toEqual(
        order.status_history.map((h) => new Date(h.at).toISOString()),
      );
      // The owner sees the same history; the list shows it too.
      expect(await read(order, owner)).toEqual(order);
      const listed = await expectStatus<LifecycleOrder[]>(app, owner, 200, 'GET', '/orders?status=delivered');
      expect(listed.find((o) => o.id === order.id)).toEqual(order);
    });
  });

  describe('racing moves', () => {
    it('lets exactly one of two simultaneous cancels through (200 and 409) and restores stock exactly once', async () => {
      for (const canceller of [owner, caller]) {
        const before = await stocks();
        const order = await orderIn('pending');
        const answers = await Promise.all([
          send(app, canceller, 'POST', `/orders/${order.id}/cancel`),
          send(app, canceller, 'POST', `/orders/${order.id}/cancel`),
        ]);
        expect(answers.map((a) => a.statusCode).sort()).toEqual([200, 409]);
        const refused = answers.find((a) => a.statusCode === 409)!;
        expect(problem(refused, 409)).toMatchObject({
          code: 'INVALID_STATUS_TRANSITION',
          current_status: 'cancelled',
          allowed_statuses: [],
        });
        expect(await stocks()).toEqual(before);
        const final = await read(order);
        expect(final.status_history.filter((h) => h.status === 'cancelled')).toHaveLength(1);
        for (const product of [mug, plate]) {
          const cancellations = (await movementsOf(product)).filter(
            (m) => m.order_id === order.id && m.type === 'cancellation',
          );
          expect(cancellations).toHaveLength(1);
        }
      }
    });

    it('lets exactly one of two simultaneous PATCHes to paid through', async () => {
      const order = await orderIn('pending');
      const answers = await Promise.all([
        send(app, caller, 'PATCH', `/orders/${order.id}`, { status: 'paid' }),
        send(app, caller, 'PATCH', `/orders/${order.id}`, { status: 'paid' }),
      ]);
      expect(answers.map((a) => a.statusCode).sort()).toEqual([200, 409]);
      expect((await read(order)).status_history.map((h) => h.status)).toEqual(['pending', 'paid']);
    });

    it('lets a cancel and a move to paid race: exactly one wins and the stock matches the outcome', async () => {
      const before = await stocks();
      const order = await orderIn('pending');
      const answers = await Promise.all([
        send(app, owner, 'POST', `/orders/${order.id}/cancel`),
        send(app, caller, 'PATCH', `/orders/${order.id}`, { status: 'paid' }),
      ]);
      const final = await read(order);
      expect(answers.map((a) => a.statusCode).sort()).toEqual([200, 409]);
      if (final.status === 'cancelled') expect(await stocks()).toEqual(before);
      else {
        expect(final.status).toBe('paid');
        expect(await stocks()).toEqual([before[0]! - 2, before[1]! - 3]);
      }
    });
  });
});
