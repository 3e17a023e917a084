import { mkdirSync } from 'node:fs';
import type { PGlite } from '@electric-sql/pglite';
import type { SQL } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import type { Config } from '../config.js';
import { withTimeout } from '../lib/time.js';
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

const POOL_END_WAIT_MS = 5000;

/**
 * pool.end() waits for every checked-out connection to come back. A connection stranded by a database that went
 * away must not hold a shutdown forever: after a few seconds the process may go, and its sockets with it.
 */
async function endPool(pool: pg.Pool): Promise<void> {
  await withTimeout(pool.end(), POOL_END_WAIT_MS).catch(() => undefined);
}

export type DatabaseSettings = Pick<Config, 'databaseUrl' | 'dataDir'> &
  Partial<Pick<Config, 'dbPoolSize' | 'dbTimeoutMs' | 'dbStatementTimeoutMs'>>;

export async function createDatabase(config: DatabaseSettings, onQuery?: QueryListener): Promise<Database> {
  const logger = onQuery ? { logQuery: onQuery } : undefined;
  if (isPostgresUrl(config.databaseUrl)) {
    const pool = new pg.Pool({
      connectionString: config.databaseUrl,
      max: config.dbPoolSize ?? 10,
      // Waiting for a free or a new connection gives up in time to answer 503 instead of hanging.
      connectionTimeoutMillis: config.dbTimeoutMs ?? 5000,
      ...(config.dbStatementTimeoutMs ? { statement_timeout: config.dbStatementTimeoutMs } : {}),
      // Notices a server that vanished without closing the socket (a failover, a cut network).
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    });
    // An idle client that loses its server emits 'error' and leaves the pool; the next query opens a new one.
    // Without a listener that error would crash the process.
    pool.on('error', () => {});
    // A client checked out of the pool (a query or a transaction under way) has no pool listener, and node-postgres
    // emits 'error' on it as well as failing its queries when the server goes away: without this, a database
    // restart crashes the process. Its queries fail (503) and the pool drops it on release, as it is not queryable.
    pool.on('connect', (client) => client.on('error', () => {}));
    const db = drizzlePg(pool, { schema, logger }) as unknown as Db;
    return { kind: 'postgres', db, pool, url: config.databaseUrl, close: () => endPool(pool) };
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

/** Rows of a hand-written statement. Both drivers answer { rows }, but Drizzle types execute() per driver. */
export async function selectRows<T>(db: Db, query: SQL): Promise<T[]> {
  const result: unknown = await db.execute(query);
  return (result as { rows: T[] }).rows;
}
