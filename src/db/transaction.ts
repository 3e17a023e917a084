import { is } from 'drizzle-orm';
import { PgTransaction } from 'drizzle-orm/pg-core';
import type { Db } from './client.js';
import { databaseUnavailable, DEADLOCK_DETECTED, pgErrorOf, SERIALIZATION_FAILURE } from './errors.js';

const MAX_ATTEMPTS = 5;
const RETRYABLE = new Set([SERIALIZATION_FAILURE, DEADLOCK_DETECTED]);

export const isRetryable = (error: unknown): boolean => RETRYABLE.has(pgErrorOf(error)?.code ?? '');

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Handles made by guardedHandle, with the question each asks before committing.
const commitGuards = new WeakMap<object, () => boolean>();

/**
 * `db` as seen by one request: a transaction opened on it rolls back instead of committing once `abandoned()` is
 * true (the client has been answered 503 for taking too long and must not find the write done behind its back).
 */
export function guardedHandle(db: Db, abandoned: () => boolean): Db {
  const handle = Object.create(db) as Db;
  commitGuards.set(handle, abandoned);
  return handle;
}

// Work to run once the outermost transaction has committed, keyed by every handle (savepoints too) inside it.
const afterCommitQueues = new WeakMap<object, (() => void)[]>();

/**
 * Runs `work` in a transaction. On the top-level handle it is retried a bounded number of times when PostgreSQL
 * aborts it for a serialization failure or a deadlock, so such a race never reaches a client as a 500. Given a
 * transaction already open, it becomes a savepoint of it, and the outer transaction owns retries.
 */
export async function inTransaction<T>(executor: Db, work: (tx: Db) => Promise<T>): Promise<T> {
  if (is(executor, PgTransaction)) {
    const queue = afterCommitQueues.get(executor);
    return executor.transaction((savepoint) => {
      if (queue) afterCommitQueues.set(savepoint, queue);
      return work(savepoint);
    });
  }
  const abandoned = commitGuards.get(executor);
  for (let attempt = 1; ; attempt++) {
    const queue: (() => void)[] = [];
    try {
      const result = await executor.transaction(async (tx) => {
        afterCommitQueues.set(tx, queue);
        const outcome = await work(tx);
        // The client has been told 503 already; committing now would make a write it believes failed.
        if (abandoned?.()) throw databaseUnavailable();
        return outcome;
      });
      for (const task of queue) task();
      return result;
    } catch (error) {
      if (attempt >= MAX_ATTEMPTS || !isRetryable(error)) throw error;
      await pause(Math.random() * 10 * 2 ** attempt);
    }
  }
}

/**
 * Runs `task` after the transaction `tx` belongs to commits; dropped if it rolls back. Caches are invalidated
 * here, so no reader can cache a row between the write and its commit.
 */
export function afterCommit(tx: Db, task: () => void): void {
  const queue = afterCommitQueues.get(tx);
  if (!queue) throw new Error('afterCommit needs a transaction opened with inTransaction');
  queue.push(task);
}
