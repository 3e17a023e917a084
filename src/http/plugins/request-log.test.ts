import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../app.js';
import { createTestApp } from '../../../test/app.js';
import { aProduct, aSignedInCustomer } from '../../../test/factories.js';
import { staff } from '../../../test/http.js';

type LogLine = Record<string, unknown> & { msg: string; level: number };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('request ids and the request log', () => {
  let app: App;
  const lines: LogLine[] = [];
  const linesOf = (requestId: string) => lines.filter((line) => line.request_id === requestId);

  beforeAll(async () => {
    app = await createTestApp(
      { logLevel: 'info' },
      { logStream: { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) } },
    );
  });
  afterAll(async () => app.close());

  it('keeps a sane X-Request-Id and writes one JSON line for the request, with route, status, time and account', async () => {
    const customer = await aSignedInCustomer(app);
    const product = await aProduct(app, await staff(app));
    const response = await app.inject({
      method: 'GET',
      url: `/products/${product.id}?fields=all`,
      headers: { ...customer.headers, 'x-request-id': 'checkout-42.a_b' },
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['x-request-id']).toBe('checkout-42.a_b');

    const own = linesOf('checkout-42.a_b');
    expect(own).toHaveLength(1);
    expect(own[0]).toMatchObject({
      msg: 'request completed',
      method: 'GET',
      route: '/products/:id',
      path: `/products/${product.id}`,
      status: 200,
      account: `customer:${customer.customer.id}`,
    });
    expect(typeof own[0]!.duration_ms).toBe('number');
  });

  it('replaces a hostile or oversized X-Request-Id with a fresh UUID', async () => {
    for (const hostile of ['a'.repeat(129), 'two words', '<script>', 'line\u0007bell', 'ü-umlaut']) {
      const response = await app.inject({ method: 'GET', url: '/products', headers: { 'x-request-id': hostile } });
      const id = String(response.headers['x-request-id']);
      expect(id, hostile).toMatch(UUID);
      expect(linesOf(id), hostile).toHaveLength(1);
      expect(lines.some((line) => line.request_id === hostile)).toBe(false);
    }
  });

  it('makes a different id for every request without one', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 20; i++) {
      ids.add(String((await app.inject({ method: 'GET', url: '/health/live' })).headers['x-request-id']));
    }
    expect(ids.size).toBe(20);
    for (const id of ids) expect(id).toMatch(UUID);
  });

  it('puts the same id in a problem body, its header and its log line, with no account for an anonymous caller', async () => {
    const response = await app.inject({
      method: 'GET',
      url: '/orders/999999',
      headers: { 'x-request-id': 'trace-me' },
    });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({ request_id: 'trace-me' });
    expect(linesOf('trace-me')).toEqual([
      expect.objectContaining({ route: '/orders/:id', status: 401, account: null, msg: 'request completed' }),
    ]);
  });

  it('never writes the token or the password of a login into its lines', async () => {
    const password = 'a-password-that-must-not-leak';
    const customer = await aSignedInCustomer(app, { password });
    const token = customer.headers.authorization!.replace('Bearer ', '');
    await app.inject({ method: 'GET', url: '/me', headers: { ...customer.headers, 'x-request-id': 'secret-check' } });
    const all = JSON.stringify(lines);
    expect(all).not.toContain(password);
    expect(all).not.toContain(token);
    expect(linesOf('secret-check')).toHaveLength(1);
  });
});
