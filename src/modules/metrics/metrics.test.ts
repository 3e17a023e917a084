import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../app.js';
import { createTestApp } from '../../../test/app.js';
import { aProduct, aSignedInCustomer, expectStatus } from '../../../test/factories.js';
import { send, staff, type Caller } from '../../../test/http.js';

const METRICS_TOKEN = 'scrape-token-0123456789abcdef';

type Sample = { name: string; labels: Record<string, string>; value: number };

/**
 * Reads the Prometheus text exposition format strictly: every line is a HELP or TYPE comment or one sample
 * `name{label="value",…} number`; anything else fails the test.
 */
function parsePrometheus(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (-?[0-9.e+-]+|[Nn]a[Nn]|[+-]Inf)$/;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      types.set(type[1]!, type[2]!);
      continue;
    }
    if (/^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*$/.test(line)) continue;
    const sample = sampleLine.exec(line);
    if (!sample) throw new Error(`not Prometheus text: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (sample[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[key!] = value!;
    }
    samples.push({ name: sample[1]!, labels, value: Number(sample[4]) });
  }
  return { samples, types };
}

const valueOf = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);

describe('GET /metrics', () => {
  let app: App;
  let admin: Caller;

  const scrape = async () => {
    const response = await send(app, admin, 'GET', '/metrics');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    return parsePrometheus(response.body);
  };

  beforeAll(async () => {
    app = await createTestApp({ metricsToken: METRICS_TOKEN, rateLimitPerMinute: 1000 });
    admin = await staff(app);
  });
  afterAll(async () => app.close());

  it('refuses a caller without a token, a customer and a wrong token; admits staff and METRICS_TOKEN', async () => {
    const customer = await aSignedInCustomer(app);
    expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
    expect((await send(app, customer, 'GET', '/metrics')).statusCode).toBe(403);
    const wrong = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer not-it' } });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.headers['content-type']).toMatch(/^application\/problem\+json/);
    const scraper = await app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    });
    expect(scraper.statusCode).toBe(200);
    expect(() => parsePrometheus(scraper.body)).not.toThrow();
    expect((await send(app, admin, 'GET', '/metrics')).statusCode).toBe(200);
  });

  it('serves valid Prometheus text with every promised family', async () => {
    const { samples, types } = await scrape();
    expect(types.get('http_requests_total')).toBe('counter');
    expect(types.get('http_request_duration_seconds')).toBe('histogram');
    expect(types.get('orders_placed_total')).toBe('counter');
    expect(types.get('payments_total')).toBe('counter');
    expect(types.get('rate_limited_requests_total')).toBe('counter');
    expect(types.get('db_pool_connections_in_use')).toBe('gauge');
    expect(types.get('db_pool_waiting_requests')).toBe('gauge');
    expect(valueOf(samples, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(samples.some((s) => s.name === 'nodejs_eventloop_lag_seconds')).toBe(true);
  });

  it('counts requests by route template and status, and their latency by route', async () => {
    const product = await aProduct(app, admin);
    const before = (await scrape()).samples;
    for (let i = 0; i < 3; i++) await app.inject({ method: 'GET', url: `/products/${product.id}` });
    await app.inject({ method: 'GET', url: '/products/999999999' });
    const after = (await scrape()).samples;

    const byRoute = { method: 'GET', route: '/products/:id' };
    const delta = (name: string, labels: Record<string, string>) =>
      valueOf(after, name, labels) - valueOf(before, name, labels);
    expect(delta('http_requests_total', { ...byRoute, status: '200' })).toBe(3);
    expect(delta('http_requests_total', { ...byRoute, status: '404' })).toBe(1);
    expect(delta('http_request_duration_seconds_count', byRoute)).toBe(4);
    expect(after.some((s) => s.labels.route === `/products/${product.id}`)).toBe(false);
  });

  it('counts orders placed once per order, and payments by outcome', async () => {
    const customer = await aSignedInCustomer(app);
    const product = await aProduct(app, admin, { stock: 50 });
    const before = (await scrape()).samples;

    const key = randomUUID();
    const body = { items: [{ product_id: product.id, quantity: 1 }] };
    const headers = { 'idempotency-key': key };
    const first = await send(app, customer, 'POST', '/orders', body, headers);
    expect(first.statusCode).toBe(201);
    const replay = await send(app, customer, 'POST', '/orders', body, headers);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    const second = await send(app, customer, 'POST', '/orders', body);
    expect(second.statusCode).toBe(201);

    const orderId = first.json<{ id: number }>().id;
    await expectStatus(app, customer, 402, 'POST', `/orders/${orderId}/payments`, {
      provider: 'test',
      payment_method: 'pm_card_declined',
    });
    await expectStatus(app, customer, 201, 'POST', `/orders/${orderId}/payments`, {
      provider: 'test',
      payment_method: 'pm_card_ok',
    });

    const after = (await scrape()).samples;
    const delta = (name: string, labels: Record<string, string> = {}) =>
      valueOf(after, name, labels) - valueOf(before, name, labels);
    expect(delta('orders_placed_total')).toBe(2);
    expect(delta('payments_total', { outcome: 'failed' })).toBe(1);
    expect(delta('payments_total', { outcome: 'captured' })).toBe(1);
  });
});

describe('GET /metrics and the rate limit', () => {
  let app: App;
  beforeAll(async () => {
    app = await createTestApp({ metricsToken: METRICS_TOKEN, rateLimitPerMinute: 2 });
  });
  afterAll(async () => app.close());

  it('counts requests refused with 429, and is itself never throttled', async () => {
    const scraper = { authorization: `Bearer ${METRICS_TOKEN}` };
    for (let i = 0; i < 4; i++) await app.inject({ method: 'GET', url: '/products', remoteAddress: '10.9.9.9' });
    let text = '';
    for (let i = 0; i < 4; i++) {
      const response = await app.inject({
        method: 'GET',
        url: '/metrics',
        headers: scraper,
        remoteAddress: '10.9.9.9',
      });
      expect(response.statusCode).toBe(200);
      text = response.body;
    }
    expect(valueOf(parsePrometheus(text).samples, 'rate_limited_requests_total')).toBe(2);
  });
});
