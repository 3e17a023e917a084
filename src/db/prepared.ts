import type { SQL } from 'drizzle-orm';
import type { Db } from './client.js';

const cache = new WeakMap<Db, Map<string, unknown>>();

/**
 * A query built once per database handle and reused: Drizzle skips rebuilding its SQL on every call, and
 * PostgreSQL skips parsing and planning it (a named prepared statement per connection). Only for the top-level
 * handle: inside a transaction, use statementIn.
 */
export function prepared<T>(db: Db, name: string, build: (db: Db) => T): T {
  let byName = cache.get(db);
  if (!byName) cache.set(db, (byName = new Map<string, unknown>()));
  let query = byName.get(name) as T | undefined;
  if (!query) byName.set(name, (query = build(db)));
  return query;
}

export type Statement<Row> = { execute(values: Record<string, unknown>): Promise<{ rows: Row[] }> };

type Query = { sql: string; params: unknown[] };
// The two Drizzle internals a statement needs: the dialect turns SQL into text with parameter slots once, and the
// session binds that text to the handle's connection. Drizzle keeps both out of its public types.
type Internals = {
  dialect: { sqlToQuery(sql: SQL): Query };
  session: { prepareQuery(query: Query, fields: undefined, name: string | undefined, arrayMode: false): unknown };
};

const texts = new Map<string, Query>();
// Statements bound to a session: the pool's lives as long as the app, a transaction's as long as the transaction.
const bound = new WeakMap<object, Map<string, Statement<unknown>>>();

/**
 * SQL (with sql.placeholder values) built once under `key` and run on any handle, a transaction included, as a
 * named prepared statement (unless `named: false`, for a filter whose best plan depends on its values, which
 * PostgreSQL then plans every time). Rows come back as the driver gives them: by column name, with timestamps as
 * PostgreSQL's text.
 */
export function statementIn<Row>(
  executor: Db,
  key: string,
  build: () => SQL,
  { named = true }: { named?: boolean } = {},
): Statement<Row> {
  const { dialect, session } = executor as unknown as Internals;
  let query = texts.get(key);
  if (!query) texts.set(key, (query = dialect.sqlToQuery(build())));
  let statements = bound.get(session);
  if (!statements) bound.set(session, (statements = new Map<string, Statement<unknown>>()));
  let statement = statements.get(key);
  if (!statement) {
    statement = session.prepareQuery(query, undefined, named ? key : undefined, false) as Statement<unknown>;
    statements.set(key, statement);
  }
  return statement as Statement<Row>;
}
