import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminQuery } from '../../../test/app.js';
import { freePort, startServer, type ServerProcess } from '../../../test/server-process.js';

/**
 * WORKERS=2 as an operator runs it: two processes behind one port. Whichever worker answers /metrics must report
 * the traffic of both, so a scraper sees the whole server and not half of it at random.
 */
const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const METRICS_TOKEN = `cluster-scrape-${randomBytes(8).toString('hex')}`;
const REQUESTS = 40;

function productRequestsIn(text: string): number {
  return text
    .split('\n')
    .filter((line) => line.startsWith('http_requests_total{') && line.includes('route="/products"'))
    .filter((line) => line.includes('status="200"'))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

describe('GET /metrics with WORKERS=2', () => {
  const database = `test_metrics_${Date.now()}_${randomBytes(3).toString('hex')}`;
  let server: (ServerProcess & { url: string }) | undefined;
  let base = '';

  beforeAll(async () => {
    await adminQuery(ADMIN_URL, `CREATE DATABASE ${database}`);
    const url = new URL(ADMIN_URL);
    url.pathname = `/${database}`;
    const port = await freePort();
    server = await startServer({
      DATABASE_URL: url.toString(),
      WORKERS: '2',
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      METRICS_TOKEN,
    });
    base = `http://127.0.0.1:${port}`;
    // Both workers listen once each has logged it.
    for (let i = 0; i < 200; i++) {
      const listening = server.logs().filter((line) => String(line.msg).startsWith('Server listening'));
      if (listening.length >= 2) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }, 90_000);

  afterAll(async () => {
    await server?.kill();
    await adminQuery(ADMIN_URL, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  }, 30_000);

  it('sums the requests every worker served, whichever worker answers', async () => {
    for (let i = 0; i < REQUESTS; i++) {
      // A new connection each time, so the primary deals them out to both workers.
      const response = await fetch(`${base}/products?limit=1`, { headers: { connection: 'close' } });
      expect(response.status).toBe(200);
      await response.arrayBuffer();
    }
    const servedBy = new Set(
      server!
        .logs()
        .filter((line) => line.route === '/products')
        .map((line) => line.pid),
    );
    expect(servedBy.size).toBe(2);

    for (let i = 0; i < 4; i++) {
      const response = await fetch(`${base}/metrics`, {
        headers: { authorization: `Bearer ${METRICS_TOKEN}`, connection: 'close' },
      });
      expect(response.status).toBe(200);
      expect(productRequestsIn(await response.text())).toBe(REQUESTS);
    }
  }, 60_000);
});
