import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { buildApp, type App, type BuildOptions } from '../src/app.js';
import { defineConfig, type Config } from '../src/config.js';
import { TEST_ADMIN } from './http.js';

/**
 * A fresh app on a fresh database: in-memory PGlite by default, or a throw-away database created on the
 * PostgreSQL server named by TEST_DATABASE_URL (dropped again when the app closes).
 */
export async function createTestApp(options: Partial<Config> = {}, build: BuildOptions = {}): Promise<App> {
  // Generous deadlines: on a loaded CI machine a burst of concurrent orders can wait seconds for a connection, and
  // these tests are about what the answers say. The outage tests set their own short DB_TIMEOUT_MS.
  const overrides: Partial<Config> = {
    admin: TEST_ADMIN,
    dbTimeoutMs: 60_000,
    dbStatementTimeoutMs: 60_000,
    ...options,
  };
  const serverUrl = process.env.TEST_DATABASE_URL;
  // A second app on a database another test app made (several server processes sharing one database).
  if (!serverUrl || options.databaseUrl) return buildApp(defineConfig(overrides), build);

  const name = `test_${Date.now()}_${randomBytes(4).toString('hex')}`;
  await adminQuery(serverUrl, `CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  try {
    return await buildApp(defineConfig({ ...overrides, databaseUrl: url.toString() }), {
      ...build,
      afterClose: () => adminQuery(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
    });
  } catch (error) {
    await adminQuery(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    throw error;
  }
}

/** Runs one statement on a PostgreSQL server through its own short connection (CREATE or DROP DATABASE). */
export async function adminQuery(serverUrl: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

export const usingPostgres = () => Boolean(process.env.TEST_DATABASE_URL);
