import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../app.js';
import { createTestApp } from '../../../test/app.js';
import { aCustomer, anOrder, aProduct, expectStatus, type Order, type Product } from '../../../test/factories.js';
import { staff, type Caller } from '../../../test/http.js';

describe('pending orders left unpaid past PENDING_ORDER_TTL_MINUTES', () => {
  let app: App;
  let admin: Caller;
  beforeAll(async () => {
    app = await createTestApp({ pendingOrderTtlMinutes: 60 });
    admin = await staff(app);
  });
  afterAll(async () => app.close());

  const age = (orderId: number, minutes: number) =>
    app.database.db.execute(
      sql`UPDATE orders SET created_at = now() - make_interval(mins => ${minutes}) WHERE id = ${orderId}`,
    );

  it('cancels an old unpaid order, puts its stock back and records the move as made by the system', async () => {
    const product = await aProduct(app, admin, { stock: 5 });
    const customer = await aCustomer(app, admin);
    const order = await anOrder(app, admin, {
      customer_id: customer.id,
      items: [{ product_id: product.id, quantity: 3 }],
    });
    const fresh = await anOrder(app, admin, {
      customer_id: customer.id,
      items: [{ product_id: product.id, quantity: 1 }],
    });
    await age(order.id, 61);

    expect(await app.services.orders.expirePendingOrders(60)).toBe(1);

    const after = await expectStatus<Order & { status_history: { status: string; by: string }[] }>(
      app,
      admin,
      200,
      'GET',
      `/orders/${order.id}`,
    );
    expect(after.status).toBe('cancelled');
    expect(after.status_history.at(-1)).toMatchObject({ status: 'cancelled', by: 'system' });
    expect((await expectStatus<Product>(app, admin, 200, 'GET', `/products/${product.id}`)).stock).toBe(4);
    expect((await expectStatus<Order>(app, admin, 200, 'GET', `/orders/${fresh.id}`)).status).toBe('pending');
  });

  it('leaves an old order alone once it holds captured money', async () => {
    const product = await aProduct(app, admin, { stock: 5, price: 1000 });
    const customer = await aCustomer(app, admin);
    const order = await anOrder(app, admin, {
      customer_id: customer.id,
      items: [{ product_id: product.id, quantity: 2 }],
    });
    await expectStatus(app, admin, 201, 'POST', `/orders/${order.id}/payments`, {
      provider: 'manual',
      amount: 500,
    });
    await age(order.id, 120);

    expect(await app.services.orders.expirePendingOrders(60)).toBe(0);
    expect((await expectStatus<Order>(app, admin, 200, 'GET', `/orders/${order.id}`)).status).toBe('pending');
  });
});
