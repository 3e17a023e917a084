import { mkdirSync } from 'node:fs';
import type { PGlite } from '@electric-sql/pglite';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import type { Config } from '../config.js';
import * as schema from './schema/index.js';

export type Schema = typeof schema;
/** One Drizzle type for both drivers; a transaction handle satisfies it too, so repositories take either. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

export type Database =
  | { kind: 'pglite'; db: Db; client: PGlite; close: () => Promise<void> }
  | { kind: 'postgres'; db: Db; pool: pg.Pool; url: string; close: () => Promise<void> };

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//.test(url);
}

// Serve int8 (bigint sums, counts) as JS numbers: every amount we store stays far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export type QueryListener = (query: string, params: unknown[]) => void;

export async function createDatabase(
  config: Pick<Config, 'databaseUrl' | 'dataDir'>,
  onQuery?: QueryListener,
): Promise<Database> {
  const logger = onQuery ? { logQuery: onQuery } : undefined;
  if (isPostgresUrl(config.databaseUrl)) {
    const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 10 });
    // An idle client that loses its server emits 'error'; without a listener that would crash the process.
    pool.on('error', () => {});
    const db = drizzlePg(pool, { schema, logger }) as unknown as Db;
    return { kind: 'postgres', db, pool, url: config.databaseUrl, close: () => pool.end() };
  }
  // Loaded only when used: PGlite's module alone costs a server on PostgreSQL some 45 MB of memory.
  const [{ PGlite }, { pg_trgm }, { drizzle: drizzlePglite }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('@electric-sql/pglite/contrib/pg_trgm'),
    import('drizzle-orm/pglite'),
  ]);
  let client: PGlite;
  if (config.databaseUrl === 'memory://') {
    client = new PGlite({ extensions: { pg_trgm } });
  } else {
    mkdirSync(config.dataDir, { recursive: true });
    client = new PGlite(config.dataDir, { extensions: { pg_trgm } });
  }
  await client.waitReady;
  const db = drizzlePglite(client, { schema, logger }) as unknown as Db;
  return { kind: 'pglite', db, client, close: () => client.close() };
}
