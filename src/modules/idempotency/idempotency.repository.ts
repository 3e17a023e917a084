import { and, eq, lt, sql } from 'drizzle-orm';
import { selectRows, type Db } from '../../db/client.js';
import { idempotencyKeys } from '../../db/schema/index.js';

export type StoredRow = typeof idempotencyKeys.$inferSelect;

/** Non-blocking: false when another transaction is working under the same key right now. */
export async function tryLockKey(db: Db, scope: string, key: string): Promise<boolean> {
  const [row] = await selectRows<{ locked: boolean }>(
    db,
    sql`select pg_try_advisory_xact_lock(hashtextextended(${`${scope}\n${key}`}, 0)) as locked`,
  );
  return row?.locked === true;
}

export async function findStored(db: Db, scope: string, key: string): Promise<StoredRow | undefined> {
  const [row] = await db
    .select()
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)));
  return row;
}

export async function insertStored(db: Db, row: typeof idempotencyKeys.$inferInsert): Promise<void> {
  await db.insert(idempotencyKeys).values(row).onConflictDoNothing();
}

export async function deleteOlderThan(db: Db, hours: number): Promise<void> {
  await db.delete(idempotencyKeys).where(lt(idempotencyKeys.createdAt, sql`now() - make_interval(hours => ${hours})`));
}
