import { writeFileSync } from 'node:fs';
import { buildApp } from '../src/app.js';
import { defineConfig } from '../src/config.js';

// Writes the OpenAPI document that the routes generate, so a change to the API shows in review.
const app = await buildApp(defineConfig());
writeFileSync(new URL('../docs/openapi.json', import.meta.url), `${JSON.stringify(app.swagger(), null, 2)}\n`);
await app.close();
console.log('docs/openapi.json written');
