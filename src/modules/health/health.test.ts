import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../app.js';
import { createTestApp, usingPostgres } from '../../../test/app.js';

describe('health and documentation', () => {
  let app: App;
  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(async () => app.close());

  it('reports the database as reachable', async () => {
    const response = await app.inject({ method: 'GET', url: '/health' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok', database: 'ok', driver: usingPostgres() ? 'postgres' : 'pglite' });
  });

  it('serves an OpenAPI 3.1 document that lists every resource', async () => {
    const response = await app.inject({ method: 'GET', url: '/openapi.json' });
    expect(response.statusCode).toBe(200);
    const doc = response.json();
    expect(doc.openapi).toBe('3.1.0');
    for (const path of ['/customers', '/customers/{id}', '/contacts/{id}', '/products', '/orders', '/orders/{id}']) {
      expect(doc.paths).toHaveProperty([path]);
    }
  });

  it('serves interactive documentation at /docs', async () => {
    const response = await app.inject({ method: 'GET', url: '/docs/' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/text\/html/);
  });

  it('answers an unknown route with a problem+json 404 and a request id', async () => {
    const response = await app.inject({ method: 'GET', url: '/nowhere', headers: { 'x-request-id': 'trace-abc.1' } });
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(response.headers['x-request-id']).toBe('trace-abc.1');
    expect(response.json()).toMatchObject({ status: 404, request_id: 'trace-abc.1' });
  });
});
