import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../app.js';
import { createTestApp } from '../../../test/app.js';
import {
  aContact,
  anOrder,
  aProduct,
  aSignedInCustomer,
  contactFields,
  customerFields,
  expectStatus,
  productFields,
  type Contact,
  type Customer,
  type Order,
  type Product,
} from '../../../test/factories.js';
import { anonymous, logIn, send, staff, TEST_ADMIN, type Caller, type Method } from '../../../test/http.js';

/**
 * Who may do what, for every route the app serves. The table is checked against `app.routeAccess` (the app's
 * own list of routes), so a route added later without a row here fails this file.
 *
 * Columns: anonymous (no token), A (a customer who owns the target), B (another customer), admin (staff).
 * The target of each request is a resource owned by A: A's customer record, a contact A created (so linked to
 * A), an order A placed. Where a call destroys its target (DELETE, logout), the cell gets a fresh target and,
 * in column A, its owner signed in afresh, so no cell depends on another.
 */
type Who = 'anonymous' | 'A' | 'B' | 'admin';
type Statuses = readonly [anonymous: number, A: number, B: number, admin: number];
type Skip = { skip: string };
const WHO: Who[] = ['anonymous', 'A', 'B', 'admin'];
const skip = (reason: string): Skip => ({ skip: reason });
const DOCS_ASSETS = skip(
  'swagger-ui asset served by @fastify/swagger-ui, public by the docs rule; GET /docs/ covers it',
);

// prettier-ignore
const EXPECTED: Record<string, Statuses | Skip> = {
  // route                                                anonymous   A     B    admin
  'GET /docs':                                            [ 200,      200,  200,  200 ], // requested as /docs/
  'GET /docs/static/index.html':                          DOCS_ASSETS,
  'GET /docs/static/swagger-initializer.js':              DOCS_ASSETS,
  'GET /docs/json':                                       DOCS_ASSETS,
  'GET /docs/yaml':                                       DOCS_ASSETS,
  'GET /docs/static/*':                                   DOCS_ASSETS,
  'GET /openapi.json':                                    [ 200,      200,  200,  200 ],
  'GET /health':                                          [ 200,      200,  200,  200 ],
  'GET /health/live':                                     [ 200,      200,  200,  200 ],
  'GET /health/ready':                                    [ 200,      200,  200,  200 ],
  'GET /metrics':                                         [ 401,      403,  403,  200 ],

  'POST /auth/login':                                     [ 200,      200,  200,  200 ],
  'POST /auth/logout':                                    [ 401,      204,  204,  204 ], // each with a fresh token
  'GET /me':                                              [ 401,      200,  200,  200 ],

  'GET /staff':                                           [ 401,      403,  403,  200 ],
  'POST /staff':                                          [ 401,      403,  403,  201 ],
  'GET /staff/:id':                                       [ 401,      403,  403,  200 ],
  'PATCH /staff/:id':                                     [ 401,      403,  403,  200 ],

  'GET /customers':                                       [ 401,      403,  403,  200 ],
  'POST /customers':                                      [ 201,      201,  201,  201 ],
  'GET /customers/:id':                                   [ 401,      200,  404,  200 ],
  'PATCH /customers/:id':                                 [ 401,      200,  404,  200 ],
  'DELETE /customers/:id':                                [ 401,      204,  404,  204 ], // a fresh customer each
  'PUT /customers/:id/contacts/:contact_id':              [ 401,      204,  404,  204 ],
  'DELETE /customers/:id/contacts/:contact_id':           [ 401,      204,  404,  204 ], // a fresh contact each
  'GET /customers/:id/contacts':                          [ 401,      200,  404,  200 ],
  'GET /customers/:id/orders':                            [ 401,      200,  404,  200 ],

  'GET /contacts':                                        [ 401,      200,  200,  200 ], // B: only B's own
  'POST /contacts':                                       [ 401,      201,  201,  201 ],
  'GET /contacts/:id':                                    [ 401,      200,  404,  200 ],
  'PATCH /contacts/:id':                                  [ 401,      200,  404,  200 ],
  'DELETE /contacts/:id':                                 [ 401,      204,  404,  204 ], // a fresh contact each

  'GET /products':                                        [ 200,      200,  200,  200 ],
  'GET /products/:id':                                    [ 200,      200,  200,  200 ],
  'POST /products':                                       [ 401,      403,  403,  201 ],
  'PATCH /products/:id':                                  [ 401,      403,  403,  200 ],
  'DELETE /products/:id':                                 [ 401,      403,  403,  204 ], // a fresh product each
  'POST /products/:id/inventory-adjustments':             [ 401,      403,  403,  201 ],
  'GET /products/:id/inventory-movements':                [ 401,      403,  403,  200 ],
  'GET /products/:id/inventory-movements/:movement_id':   [ 401,      403,  403,  200 ],
  'GET /inventory/low-stock':                             [ 401,      403,  403,  200 ],

  'POST /orders':                                         [ 401,      201,  400,  201 ], // B names A as customer_id: 400
  'GET /orders':                                          [ 401,      200,  200,  200 ], // B: only B's own
  'GET /orders/:id':                                      [ 401,      200,  404,  200 ],
  'PATCH /orders/:id':                                    [ 401,      403,  403,  200 ], // a fresh pending order each
  'POST /orders/:id/cancel':                              [ 401,      200,  404,  200 ], // a fresh pending order each

  'POST /orders/:id/payments':                            [ 401,      201,  404,  201 ], // a fresh pending order each
  'GET /orders/:id/payments':                             [ 401,      200,  404,  200 ],
  'GET /payments/:id':                                    [ 401,      200,  404,  200 ],
  'POST /payments/:id/capture':                           [ 401,      403,  403,  200 ], // a fresh authorization each
  'POST /payments/:id/void':                              [ 401,      403,  403,  200 ], // a fresh authorization each
  'POST /payments/:id/refunds':                           [ 401,      403,  403,  201 ],
  'POST /webhooks/payments/:provider':                    [ 400,      400,  400,  400 ], // unsigned: refused for all

  'POST /orders/:id/shipments':                           [ 401,      403,  403,  201 ], // a fresh paid order each
  'GET /orders/:id/shipments':                            [ 401,      200,  404,  200 ],
  'GET /shipments/:id':                                   [ 401,      200,  404,  200 ],
  'POST /shipments/:id/events':                           [ 401,      403,  403,  201 ],
  'POST /webhooks/carriers/:carrier':                     [ 400,      400,  400,  400 ], // unsigned: refused for all

  'POST /orders/:id/returns':                             [ 401,      201,  404,  201 ], // a fresh delivered order each
  'GET /orders/:id/returns':                              [ 401,      200,  404,  200 ],
  'GET /returns/:id':                                     [ 401,      200,  404,  200 ],
  'POST /returns/:id/receive':                            [ 401,      403,  403,  200 ], // a fresh return each
  'POST /returns/:id/reject':                             [ 401,      403,  403,  200 ], // a fresh return each
};

type Json = Record<string, unknown>;
/** What one cell sends: the path, the body for writes, and (for fresh fixtures) who sends it instead. */
type Call = { path: string; body?: Json; as?: Caller };

const PASSWORD = 'matrix password 1';

describe('authorization matrix', () => {
  let app: App;
  const callers = {} as Record<Who, Caller>;
  let customerA: Customer;
  let contactOfA: Contact;
  let orderOfA: Order;
  let product: Product;
  let adminId: number;
  let spareStaffId: number;
  let movementId: number;
  const credentials = {} as Record<Who, { username: string; password: string }>;

  beforeAll(async () => {
    app = await createTestApp();
    callers.anonymous = anonymous;
    callers.admin = await staff(app);
    const a = await aSignedInCustomer(app, { password: PASSWORD });
    const b = await aSignedInCustomer(app, { password: PASSWORD });
    callers.A = a;
    callers.B = b;
    customerA = a.customer;
    credentials.anonymous = { username: a.customer.username, password: PASSWORD };
    credentials.A = { username: a.customer.username, password: PASSWORD };
    credentials.B = { username: b.customer.username, password: PASSWORD };
    credentials.admin = { username: TEST_ADMIN.username, password: TEST_ADMIN.password };

    contactOfA = await aContact(app, callers.A);
    product = await aProduct(app, callers.admin, { stock: 1000 });
    orderOfA = await anOrder(app, callers.A, {
      items: [{ product_id: product.id, quantity: 1 }],
      shipping_contact_id: contactOfA.id,
    });
    // B owns things too, so "only their own" lists have something to leave out.
    const contactOfB = await aContact(app, callers.B);
    await anOrder(app, callers.B, {
      items: [{ product_id: product.id, quantity: 1 }],
      shipping_contact_id: contactOfB.id,
    });

    movementId = (
      await expectStatus<{ id: number }>(
        app,
        callers.admin,
        201,
        'POST',
        `/products/${product.id}/inventory-adjustments`,
        {
          delta: 10,
          reason: 'delivery',
        },
      )
    ).id;
    adminId = (await expectStatus<{ id: number }>(app, callers.admin, 200, 'GET', '/me')).id;
    spareStaffId = (
      await expectStatus<{ id: number }>(app, callers.admin, 201, 'POST', '/staff', {
        username: `spare_${Date.now()}`,
        email_id: `spare_${Date.now()}@example.com`,
        password: PASSWORD,
      })
    ).id;
  });
  afterAll(async () => app.close());

  const uniqueStaff = () => {
    const { username, email_id } = customerFields();
    return { username: `staff_${username}`, email_id: `staff_${email_id}`, password: PASSWORD };
  };

  const freshOrderOfA = () => anOrder(app, callers.A, { items: [{ product_id: product.id, quantity: 1 }] });

  /** A payment by A on a fresh order: captured, or only authorized. */
  const freshPaymentOfA = async (capture: boolean) =>
    expectStatus<{ id: number }>(app, callers.A, 201, 'POST', `/orders/${(await freshOrderOfA()).id}/payments`, {
      provider: 'test',
      payment_method: 'pm_card_ok',
      capture,
    });

  /** A fresh order of A, paid by A with the test gateway. */
  const freshPaidOrderOfA = async () => {
    const order = await freshOrderOfA();
    await expectStatus(app, callers.A, 201, 'POST', `/orders/${order.id}/payments`, {
      provider: 'test',
      payment_method: 'pm_card_ok',
    });
    return order;
  };
  let trackingSeq = 0;
  const freshShipmentOfA = async () => {
    const order = await freshPaidOrderOfA();
    return expectStatus<{ id: number }>(app, callers.admin, 201, 'POST', `/orders/${order.id}/shipments`, {
      carrier: 'ups',
      tracking_number: `1Z-MATRIX-${Date.now()}-${trackingSeq++}`,
    });
  };
  /** Paid, shipped and delivered through the staff shortcuts. */
  const freshDeliveredOrderOfA = async () => {
    const order = await freshPaidOrderOfA();
    await expectStatus(app, callers.admin, 200, 'PATCH', `/orders/${order.id}`, { status: 'shipped' });
    await expectStatus(app, callers.admin, 200, 'PATCH', `/orders/${order.id}`, { status: 'delivered' });
    return order;
  };
  const returnBody = (order: Order) => ({
    items: [{ order_item_id: (order.items[0] as { id: number }).id, quantity: 1 }],
    reason: 'too small',
  });
  const freshReturnOfA = async () => {
    const order = await freshDeliveredOrderOfA();
    return expectStatus<{ id: number }>(app, callers.A, 201, 'POST', `/orders/${order.id}/returns`, returnBody(order));
  };

  /** A customer who signed up just now; in column A they are the one who calls. */
  async function freshOwner(who: Who): Promise<{ owner: Caller & { customer: Customer }; as?: Caller }> {
    const owner = await aSignedInCustomer(app, { password: PASSWORD });
    return { owner, as: who === 'A' ? owner : undefined };
  }

  const REQUESTS: Record<string, (who: Who) => Promise<Call> | Call> = {
    'GET /docs': () => ({ path: '/docs/' }),
    'GET /openapi.json': () => ({ path: '/openapi.json' }),
    'GET /health': () => ({ path: '/health' }),
    'GET /health/live': () => ({ path: '/health/live' }),
    'GET /health/ready': () => ({ path: '/health/ready' }),
    'GET /metrics': () => ({ path: '/metrics' }),

    'POST /auth/login': (who) => ({ path: '/auth/login', body: credentials[who] }),
    'POST /auth/logout': async (who) => ({
      path: '/auth/logout',
      as:
        who === 'anonymous'
          ? undefined
          : {
              name: `${who} (fresh token)`,
              headers: await logIn(app, credentials[who].username, credentials[who].password),
            },
    }),
    'GET /me': () => ({ path: '/me' }),

    'GET /staff': () => ({ path: '/staff' }),
    'POST /staff': () => ({ path: '/staff', body: uniqueStaff() }),
    'GET /staff/:id': () => ({ path: `/staff/${adminId}` }),
    'PATCH /staff/:id': () => ({ path: `/staff/${spareStaffId}`, body: { disabled: false } }),

    'GET /customers': () => ({ path: '/customers' }),
    'POST /customers': () => ({ path: '/customers', body: customerFields() }),
    'GET /customers/:id': () => ({ path: `/customers/${customerA.id}` }),
    'PATCH /customers/:id': () => ({ path: `/customers/${customerA.id}`, body: { last_name: 'Byron' } }),
    'DELETE /customers/:id': async (who) => {
      const { owner, as } = await freshOwner(who);
      return { path: `/customers/${owner.customer.id}`, as };
    },
    'PUT /customers/:id/contacts/:contact_id': () => ({
      path: `/customers/${customerA.id}/contacts/${contactOfA.id}`,
    }),
    'DELETE /customers/:id/contacts/:contact_id': async () => {
      const contact = await aContact(app, callers.A);
      return { path: `/customers/${customerA.id}/contacts/${contact.id}` };
    },
    'GET /customers/:id/contacts': () => ({ path: `/customers/${customerA.id}/contacts` }),
    'GET /customers/:id/orders': () => ({ path: `/customers/${customerA.id}/orders` }),

    'GET /contacts': () => ({ path: '/contacts' }),
    'POST /contacts': () => ({ path: '/contacts', body: contactFields() }),
    'GET /contacts/:id': () => ({ path: `/contacts/${contactOfA.id}` }),
    'PATCH /contacts/:id': () => ({ path: `/contacts/${contactOfA.id}`, body: { city: 'Shelbyville' } }),
    'DELETE /contacts/:id': async () => ({ path: `/contacts/${(await aContact(app, callers.A)).id}` }),

    'GET /products': () => ({ path: '/products' }),
    'GET /products/:id': () => ({ path: `/products/${product.id}` }),
    'POST /products': () => ({ path: '/products', body: productFields() }),
    'PATCH /products/:id': () => ({ path: `/products/${product.id}`, body: { name: 'Plain mug, large' } }),
    'DELETE /products/:id': async () => ({ path: `/products/${(await aProduct(app, callers.admin)).id}` }),
    'POST /products/:id/inventory-adjustments': () => ({
      path: `/products/${product.id}/inventory-adjustments`,
      body: { delta: 5, reason: 'recount' },
    }),
    'GET /products/:id/inventory-movements': () => ({ path: `/products/${product.id}/inventory-movements` }),
    'GET /products/:id/inventory-movements/:movement_id': () => ({
      path: `/products/${product.id}/inventory-movements/${movementId}`,
    }),
    'GET /inventory/low-stock': () => ({ path: '/inventory/low-stock?threshold=5' }),

    // Staff must name the customer; A may leave it out (meaning themselves); B names A, which B cannot see.
    'POST /orders': (who) => ({
      path: '/orders',
      body: {
        ...(who === 'A' ? {} : { customer_id: customerA.id }),
        items: [{ product_id: product.id, quantity: 1 }],
      },
    }),
    'GET /orders': () => ({ path: '/orders' }),
    'GET /orders/:id': () => ({ path: `/orders/${orderOfA.id}` }),
    'PATCH /orders/:id': async () => ({ path: `/orders/${(await freshOrderOfA()).id}`, body: { status: 'paid' } }),
    'POST /orders/:id/cancel': async () => ({ path: `/orders/${(await freshOrderOfA()).id}/cancel` }),

    'POST /orders/:id/payments': async () => ({
      path: `/orders/${(await freshOrderOfA()).id}/payments`,
      body: { provider: 'test', payment_method: 'pm_card_ok' },
    }),
    'GET /orders/:id/payments': () => ({ path: `/orders/${orderOfA.id}/payments` }),
    'GET /payments/:id': async () => ({ path: `/payments/${(await freshPaymentOfA(true)).id}` }),
    'POST /payments/:id/capture': async () => ({ path: `/payments/${(await freshPaymentOfA(false)).id}/capture` }),
    'POST /payments/:id/void': async () => ({ path: `/payments/${(await freshPaymentOfA(false)).id}/void` }),
    'POST /payments/:id/refunds': async () => ({
      path: `/payments/${(await freshPaymentOfA(true)).id}/refunds`,
      body: { amount: 1, reason: 'goodwill' },
    }),
    'POST /webhooks/payments/:provider': () => ({
      path: '/webhooks/payments/test',
      body: { id: 'evt_unsigned', type: 'payment.succeeded', provider_reference: 'x', amount: 1 },
    }),

    'POST /orders/:id/shipments': async () => ({
      path: `/orders/${(await freshPaidOrderOfA()).id}/shipments`,
      body: { carrier: 'ups', tracking_number: `1Z-MATRIX-${Date.now()}-${trackingSeq++}` },
    }),
    'GET /orders/:id/shipments': () => ({ path: `/orders/${orderOfA.id}/shipments` }),
    'GET /shipments/:id': async () => ({ path: `/shipments/${(await freshShipmentOfA()).id}` }),
    'POST /shipments/:id/events': async () => ({
      path: `/shipments/${(await freshShipmentOfA()).id}/events`,
      body: { status: 'in_transit', occurred_at: new Date().toISOString() },
    }),
    'POST /webhooks/carriers/:carrier': () => ({
      path: '/webhooks/carriers/ups',
      body: { id: 'evt_unsigned', tracking_number: 'x', status: 'delivered', occurred_at: new Date().toISOString() },
    }),

    'POST /orders/:id/returns': async () => {
      const order = await freshDeliveredOrderOfA();
      return { path: `/orders/${order.id}/returns`, body: returnBody(order) };
    },
    'GET /orders/:id/returns': () => ({ path: `/orders/${orderOfA.id}/returns` }),
    'GET /returns/:id': async () => ({ path: `/returns/${(await freshReturnOfA()).id}` }),
    'POST /returns/:id/receive': async () => ({ path: `/returns/${(await freshReturnOfA()).id}/receive` }),
    'POST /returns/:id/reject': async () => ({ path: `/returns/${(await freshReturnOfA()).id}/reject` }),
  };

  it('has exactly one row for every route the app serves (add a row when you add a route)', () => {
    const served = app.routeAccess.map((r) => `${r.method} ${r.url}`);
    const withoutRow = served.filter((route) => !(route in EXPECTED));
    const withoutRoute = Object.keys(EXPECTED).filter((route) => !served.includes(route));
    expect({ withoutRow, withoutRoute }).toEqual({ withoutRow: [], withoutRoute: [] });
    expect(new Set(served).size).toBe(served.length);

    const tested = Object.entries(EXPECTED).filter(([, row]) => !('skip' in row));
    const withoutRequest = tested.map(([route]) => route).filter((route) => !(route in REQUESTS));
    expect(withoutRequest).toEqual([]);
  });

  it('marks the staff-only routes as staff in the route table, and only those', () => {
    for (const route of app.routeAccess) {
      const row = EXPECTED[`${route.method} ${route.url}`];
      if (!row || 'skip' in row) continue;
      const staffOnly = row[0] === 401 && row[1] === 403 && row[2] === 403;
      expect(route.access === 'staff', `${route.method} ${route.url} is ${route.access}`).toBe(staffOnly);
      expect(route.access === 'public', `${route.method} ${route.url} is ${route.access}`).toBe(row[0] !== 401);
    }
  });

  const rows = Object.entries(EXPECTED).filter((entry): entry is [string, Statuses] => !('skip' in entry[1]));

  it.each(rows)('%s answers anonymous, A, B, admin with %j', async (route, expected) => {
    const method = route.split(' ')[0] as Method;
    const actual = {} as Record<Who, number>;
    const bodies: string[] = [];
    for (const who of WHO) {
      const call = await REQUESTS[route]!(who);
      const response = await send(app, call.as ?? callers[who], method, call.path, call.body);
      actual[who] = response.statusCode;
      bodies.push(`${who}: ${response.statusCode} ${response.body.slice(0, 300)}`);
      checkAnswer(response);
    }
    const wanted = Object.fromEntries(WHO.map((who, i) => [who, expected[i]]));
    expect(actual, bodies.join('\n')).toEqual(wanted);
  });

  /** What every cell must satisfy whatever its status. */
  function checkAnswer(response: LightMyRequestResponse) {
    if (response.statusCode === 401) expect(response.headers['www-authenticate']).toBe('Bearer');
    if (response.statusCode >= 400) {
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    for (const secret of [PASSWORD, TEST_ADMIN.password, 'scrypt$', 'password_hash']) {
      expect(response.body).not.toContain(secret);
    }
  }
});
