import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import { createTestApp } from './app.js';

describe('the committed OpenAPI document', () => {
  let app: App;
  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(async () => app.close());

  it('matches what the routes generate (run `npm run openapi` after changing a route)', () => {
    const committed: unknown = JSON.parse(readFileSync(new URL('../docs/openapi.json', import.meta.url), 'utf8'));
    expect(JSON.parse(JSON.stringify(app.swagger()))).toEqual(committed);
  });
});
