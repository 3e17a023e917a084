import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../../db/client.js';
import type { AccountRef, Actor } from '../../lib/actor.js';
import * as repo from './sessions.repository.js';

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * Opaque bearer tokens backed by a table: every process sees a revocation the moment it commits, which a
 * self-contained token could only match with a lookup anyway.
 */
export function createSessionsService({ db, ttlSeconds }: { db: Db; ttlSeconds: number }) {
  return {
    ttlSeconds,

    async issue(owner: AccountRef): Promise<string> {
      const token = `st_${randomBytes(32).toString('base64url')}`;
      await repo.insertSession(db, hashToken(token), owner, ttlSeconds);
      // Expired rows are useless; sweeping them on login keeps the table small without a scheduler.
      await repo.deleteExpiredSessions(db);
      return token;
    },

    async authenticate(token: string): Promise<Actor | null> {
      if (!/^st_[A-Za-z0-9_-]{43}$/.test(token)) return null;
      const session = await repo.findLiveSession(db, hashToken(token));
      if (!session) return null;
      return session.staffId !== null
        ? { role: 'admin', id: session.staffId }
        : { role: 'customer', id: session.customerId! };
    },

    revoke(token: string): Promise<void> {
      return repo.deleteSession(db, hashToken(token));
    },

    /** Ends every token of an account, inside the caller's transaction when one is given. */
    revokeAll(executor: Db, owner: AccountRef): Promise<void> {
      return repo.deleteSessionsOf(executor, owner);
    },
  };
}

export type SessionsService = ReturnType<typeof createSessionsService>;
