import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../app.js';
import { createTestApp, usingPostgres } from '../../../test/app.js';
import { aSignedInCustomer } from '../../../test/factories.js';

const LIMIT = 5;
/** A client address no earlier run has used, so counts kept in Redis from a previous run cannot leak in. */
const freshAddress = () => `10.${[...randomBytes(3)].join('.')}`;

function get(app: App, url: string, headers: Record<string, string> = {}, remoteAddress = '127.0.0.1') {
  return app.inject({ method: 'GET', url, headers, remoteAddress });
}

async function spend(app: App, times: number, headers: Record<string, string> = {}, remoteAddress?: string) {
  const statuses: number[] = [];
  for (let i = 0; i < times; i++) statuses.push((await get(app, '/products', headers, remoteAddress)).statusCode);
  return statuses;
}

describe('RATE_LIMIT_PER_MINUTE', () => {
  let app: App;
  beforeAll(async () => {
    app = await createTestApp({ rateLimitPerMinute: LIMIT });
  });
  afterAll(async () => app.close());

  it('counts down in RateLimit headers, then answers 429 problem+json with Retry-After', async () => {
    const address = freshAddress();
    const remaining: string[] = [];
    for (let i = 0; i < LIMIT; i++) {
      const response = await get(app, '/products', {}, address);
      expect(response.statusCode).toBe(200);
      expect(response.headers['ratelimit-limit']).toBe(String(LIMIT));
      const reset = Number(response.headers['ratelimit-reset']);
      expect(reset).toBeGreaterThan(0);
      expect(reset).toBeLessThanOrEqual(60);
      remaining.push(String(response.headers['ratelimit-remaining']));
    }
    expect(remaining).toEqual(['4', '3', '2', '1', '0']);

    const refused = await get(app, '/products', {}, address);
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.json()).toMatchObject({
      status: 429,
      code: 'RATE_LIMITED',
      request_id: refused.headers['x-request-id'],
    });
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers['ratelimit-remaining']).toBe('0');
  });

  it('does not count or throttle the health probes and /metrics', async () => {
    const address = freshAddress();
    expect(await spend(app, LIMIT + 1, {}, address)).toContain(429);
    for (const url of ['/health', '/health/live', '/health/ready']) {
      const response = await get(app, url, {}, address);
      expect(response.statusCode, url).toBe(200);
      expect(response.headers['ratelimit-limit'], url).toBeUndefined();
    }
    expect((await get(app, '/metrics', {}, address)).statusCode).toBe(401);
  });

  it('counts a signed-in client by account, apart from its address and from other accounts', async () => {
    const address = freshAddress();
    const a = await aSignedInCustomer(app);
    const b = await aSignedInCustomer(app);
    expect(await spend(app, LIMIT, a.headers, address)).toEqual(Array(LIMIT).fill(200));
    expect((await get(app, '/products', a.headers, freshAddress())).statusCode).toBe(429);
    expect((await get(app, '/products', b.headers, address)).statusCode).toBe(200);
    expect((await get(app, '/products', {}, address)).statusCode).toBe(200);
  });

  it('throttles a flood of bad tokens by address before it reaches the access check', async () => {
    const address = freshAddress();
    const bad = { authorization: 'Bearer st_not-a-real-token' };
    const statuses: number[] = [];
    for (let i = 0; i <= LIMIT; i++) statuses.push((await get(app, '/me', bad, address)).statusCode);
    expect(statuses).toEqual([...Array(LIMIT).fill(401), 429]);
  });

  it('ignores X-Forwarded-For unless TRUST_PROXY is set', async () => {
    const address = freshAddress();
    const statuses: number[] = [];
    for (let i = 0; i <= LIMIT; i++) {
      statuses.push((await get(app, '/products', { 'x-forwarded-for': freshAddress() }, address)).statusCode);
    }
    expect(statuses.at(-1)).toBe(429);
  });
});

describe('RATE_LIMIT_PER_MINUTE behind a proxy (TRUST_PROXY)', () => {
  let app: App;
  beforeAll(async () => {
    app = await createTestApp({ rateLimitPerMinute: LIMIT, trustProxy: true });
  });
  afterAll(async () => app.close());

  it('counts each client by the address in X-Forwarded-For', async () => {
    const proxy = freshAddress();
    const first = { 'x-forwarded-for': freshAddress() };
    expect(await spend(app, LIMIT + 1, first, proxy)).toEqual([...Array(LIMIT).fill(200), 429]);
    expect((await get(app, '/products', { 'x-forwarded-for': freshAddress() }, proxy)).statusCode).toBe(200);
  });
});

describe('RATE_LIMIT_PER_MINUTE is off by default', () => {
  let app: App;
  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(async () => app.close());

  it('sends no RateLimit headers and never 429', async () => {
    const statuses = await spend(app, 30);
    expect(new Set(statuses)).toEqual(new Set([200]));
    expect((await get(app, '/products')).headers['ratelimit-limit']).toBeUndefined();
  });
});

describe('RATE_LIMIT_PER_MINUTE with several workers and no Redis: counts kept in the database', () => {
  let first: App;
  let second: App;
  beforeAll(async () => {
    first = await createTestApp({ rateLimitPerMinute: LIMIT, workers: 2, trustProxy: true });
    // On PostgreSQL a second app shares the first one's database, as a second worker process would.
    second = usingPostgres()
      ? await createTestApp({
          rateLimitPerMinute: LIMIT,
          workers: 2,
          trustProxy: true,
          databaseUrl: (first.database as { url: string }).url,
        })
      : first;
  });
  afterAll(async () => {
    if (second !== first) await second.close();
    await first.close();
  });

  it('shares one count between the processes', async () => {
    const client = { 'x-forwarded-for': freshAddress() };
    const statuses = [...(await spend(first, 3, client)), ...(await spend(second, 3, client))];
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    const response = await get(second, '/products', { 'x-forwarded-for': freshAddress() });
    expect(response.headers['ratelimit-remaining']).toBe(String(LIMIT - 1));
  });
});

const redisUrl = process.env.TEST_REDIS_URL;

describe.runIf(redisUrl)('RATE_LIMIT_PER_MINUTE shared through Redis (TEST_REDIS_URL)', () => {
  let first: App;
  let second: App;
  beforeAll(async () => {
    first = await createTestApp({ rateLimitPerMinute: LIMIT, redisUrl: redisUrl!, trustProxy: true });
    second = await createTestApp({ rateLimitPerMinute: LIMIT, redisUrl: redisUrl!, trustProxy: true });
  });
  afterAll(async () => {
    await second.close();
    await first.close();
  });

  it('shares one count between two app instances', async () => {
    const client = { 'x-forwarded-for': freshAddress() };
    const statuses = [...(await spend(first, 3, client)), ...(await spend(second, 3, client))];
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
  });
});

describe('RATE_LIMIT_PER_MINUTE and paths no route serves', () => {
  let app: App;
  beforeAll(async () => {
    app = await createTestApp({ rateLimitPerMinute: LIMIT });
  });
  afterAll(async () => app.close());

  it('counts 404s too, so a flood of random URLs is throttled like any other', async () => {
    const address = freshAddress();
    const statuses: number[] = [];
    for (let i = 0; i <= LIMIT; i++) {
      statuses.push((await get(app, `/no-such-path-${i}`, {}, address)).statusCode);
    }
    expect(statuses).toEqual([...Array(LIMIT).fill(404), 429]);
  });
});
