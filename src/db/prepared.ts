import type { Db } from './client.js';

const cache = new WeakMap<Db, Map<string, unknown>>();

/**
 * A query built once per database handle and reused: Drizzle skips rebuilding its SQL on every call, and
 * PostgreSQL skips parsing and planning it (a named prepared statement per connection). Only for the top-level
 * handle: inside a transaction, build the query as usual.
 */
export function prepared<T>(db: Db, name: string, build: (db: Db) => T): T {
  let byName = cache.get(db);
  if (!byName) cache.set(db, (byName = new Map<string, unknown>()));
  let query = byName.get(name) as T | undefined;
  if (!query) byName.set(name, (query = build(db)));
  return query;
}
