import { is } from 'drizzle-orm';
import { PgTransaction } from 'drizzle-orm/pg-core';
import type { Db } from './client.js';
import { DEADLOCK_DETECTED, pgErrorOf, SERIALIZATION_FAILURE } from './errors.js';

const MAX_ATTEMPTS = 5;
const RETRYABLE = new Set([SERIALIZATION_FAILURE, DEADLOCK_DETECTED]);

export const isRetryable = (error: unknown): boolean => RETRYABLE.has(pgErrorOf(error)?.code ?? '');

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `work` in a transaction. On the top-level handle it is retried a bounded number of times when PostgreSQL
 * aborts it for a serialization failure or a deadlock, so such a race never reaches a client as a 500. Given a
 * transaction already open, it becomes a savepoint of it, and the outer transaction owns retries.
 */
export async function inTransaction<T>(executor: Db, work: (tx: Db) => Promise<T>): Promise<T> {
  if (is(executor, PgTransaction)) return executor.transaction(work);
  for (let attempt = 1; ; attempt++) {
    try {
      return await executor.transaction(work);
    } catch (error) {
      if (attempt >= MAX_ATTEMPTS || !isRetryable(error)) throw error;
      await pause(Math.random() * 10 * 2 ** attempt);
    }
  }
}
