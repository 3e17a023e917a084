import { and, eq, gt, lt, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { prepared } from '../../db/prepared.js';
import { sessions } from '../../db/schema/index.js';
import type { AccountRef } from '../../lib/actor.js';

export type SessionRow = typeof sessions.$inferSelect;

export async function insertSession(db: Db, tokenHash: string, owner: AccountRef, ttlSeconds: number): Promise<void> {
  await db.insert(sessions).values({
    tokenHash,
    customerId: 'customerId' in owner ? owner.customerId : null,
    staffId: 'staffId' in owner ? owner.staffId : null,
    expiresAt: sql`now() + make_interval(secs => ${ttlSeconds})`,
  });
}

/** Runs on every authenticated request, so it is prepared once. */
export async function findLiveSession(db: Db, tokenHash: string): Promise<SessionRow | undefined> {
  const query = prepared(db, 'session_by_hash', (d) =>
    d
      .select()
      .from(sessions)
      .where(and(eq(sessions.tokenHash, sql.placeholder('hash')), gt(sessions.expiresAt, sql`now()`)))
      .prepare('session_by_hash'),
  );
  const [row] = await query.execute({ hash: tokenHash });
  return row;
}

export async function deleteSession(db: Db, tokenHash: string): Promise<void> {
  await db.delete(sessions).where(eq(sessions.tokenHash, tokenHash));
}

export async function deleteSessionsOf(db: Db, owner: AccountRef): Promise<void> {
  await db
    .delete(sessions)
    .where('customerId' in owner ? eq(sessions.customerId, owner.customerId) : eq(sessions.staffId, owner.staffId));
}

export async function deleteExpiredSessions(db: Db): Promise<void> {
  await db.delete(sessions).where(lt(sessions.expiresAt, sql`now()`));
}
