import { and, eq, gt, lt, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
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

export async function findLiveSession(db: Db, tokenHash: string): Promise<SessionRow | undefined> {
  const [row] = await db
    .select()
    .from(sessions)
    .where(and(eq(sessions.tokenHash, tokenHash), gt(sessions.expiresAt, sql`now()`)));
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
