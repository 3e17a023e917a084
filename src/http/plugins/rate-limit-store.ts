import { sql } from 'drizzle-orm';
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import { selectRows, type Db } from '../../db/client.js';

type Window = { hits: number; ttl_ms: number };

/**
 * Counts in PostgreSQL, for several server processes without Redis: one upsert per request on an unlogged table,
 * a fixed window per client that starts with its first request, like the plugin's own stores.
 */
export function postgresRateLimitStore(db: Db): FastifyRateLimitStoreCtor {
  return class PostgresRateLimitStore implements FastifyRateLimitStore {
    incr(
      key: string,
      callback: (error: Error | null, result?: { current: number; ttl: number }) => void,
      windowMs: number,
    ) {
      selectRows<Window>(
        db,
        sql`INSERT INTO rate_limit_windows AS w (key, hits, resets_at)
            VALUES (${key}, 1, now() + ${windowMs} * interval '1 millisecond')
            ON CONFLICT (key) DO UPDATE SET
              hits = CASE WHEN w.resets_at <= now() THEN 1 ELSE w.hits + 1 END,
              resets_at = CASE WHEN w.resets_at <= now() THEN excluded.resets_at ELSE w.resets_at END
            RETURNING hits, greatest(0, ceil(extract(epoch FROM resets_at - now()) * 1000))::int AS ttl_ms`,
      ).then(
        ([row]) => {
          if (!row) return callback(new Error('the rate-limit upsert returned no row'));
          callback(null, { current: row.hits, ttl: row.ttl_ms });
        },
        (error: Error) => callback(error),
      );
    }
    child(): FastifyRateLimitStore {
      return this;
    }
  };
}

/** Windows that ended a while ago are only clutter; every process sweeps them now and then. */
export async function deleteEndedWindows(db: Db): Promise<void> {
  await db.execute(sql`DELETE FROM rate_limit_windows WHERE resets_at < now() - interval '1 minute'`);
}
