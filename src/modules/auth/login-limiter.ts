import { and, desc, eq, gt, lt, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { loginFailures } from '../../db/schema/index.js';

export const MAX_FAILURES = 10;
export const WINDOW_SECONDS = 15 * 60;

const windowStart = sql`now() - make_interval(secs => ${WINDOW_SECONDS})`;

/**
 * Failed logins per key ("user:…", "ip:…") over a sliding 15-minute window, kept in the database so every
 * server process counts the same attempts. A key is blocked only while its last ten failures are inside the
 * window, so nobody can lock an account for longer than that.
 */
export function createLoginLimiter(db: Db) {
  return {
    /** Seconds until the first blocked key opens again, or 0 when every key may try. */
    async secondsBlocked(keys: string[]): Promise<number> {
      let wait = 0;
      for (const key of keys) {
        const [tenth] = await db
          .select({
            seconds: sql<number>`ceil(extract(epoch from (${loginFailures.failedAt} + make_interval(secs => ${WINDOW_SECONDS}) - now())))::int`,
          })
          .from(loginFailures)
          .where(and(eq(loginFailures.key, key), gt(loginFailures.failedAt, windowStart)))
          .orderBy(desc(loginFailures.failedAt))
          .offset(MAX_FAILURES - 1)
          .limit(1);
        if (tenth) wait = Math.max(wait, Math.max(1, tenth.seconds));
      }
      return wait;
    },

    async recordFailure(keys: string[]): Promise<void> {
      await db.insert(loginFailures).values(keys.map((key) => ({ key })));
      await db.delete(loginFailures).where(lt(loginFailures.failedAt, windowStart));
    },
  };
}

export type LoginLimiter = ReturnType<typeof createLoginLimiter>;
