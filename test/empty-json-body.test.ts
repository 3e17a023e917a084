import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import { createTestApp } from './app.js';
import { aCustomer, anOrder, aProduct } from './factories.js';
import { send, staff, type Caller } from './http.js';

describe('a JSON content type with an empty body', () => {
  let app: App;
  let admin: Caller;
  beforeAll(async () => {
    app = await createTestApp();
    admin = await staff(app);
  });
  afterAll(async () => app.close());

  it('is accepted by an action that takes no body, such as cancelling an order', async () => {
    const product = await aProduct(app, admin, { stock: 3 });
    const customer = await aCustomer(app, admin);
    const order = await anOrder(app, admin, {
      customer_id: customer.id,
      items: [{ product_id: product.id, quantity: 1 }],
    });
    const response = await app.inject({
      method: 'POST',
      url: `/orders/${order.id}/cancel`,
      headers: { ...admin.headers, 'content-type': 'application/json' },
      payload: '',
    });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({ status: 'cancelled' });
  });

  it('is still a 400 naming the body where a body is required', async () => {
    const response = await send(app, admin, 'POST', '/products', undefined, { 'content-type': 'application/json' });
    expect(response.statusCode).toBe(400);
    expect(response.json().errors[0].field).toBe('body');
  });
});
