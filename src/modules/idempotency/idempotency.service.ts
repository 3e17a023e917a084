import type { Db } from '../../db/client.js';
import { inTransaction, isRetryable } from '../../db/transaction.js';
import { AppError, conflict } from '../../lib/errors.js';
import * as repo from './idempotency.repository.js';

export type StoredResponse = { statusCode: number; body: unknown; location: string | null };
export type IdempotentRequest = { scope: string; key: string; fingerprint: string };
export type Outcome =
  | { kind: 'fresh'; response: StoredResponse }
  | { kind: 'replay'; response: StoredResponse }
  | { kind: 'failed'; error: unknown };

// Kept at least 24 hours, as promised to clients; older ones are swept now and then.
const KEEP_HOURS = 48;

const reusedWithOtherBody = () =>
  new AppError(
    'unprocessable',
    'IDEMPOTENCY_KEY_REUSED',
    'this Idempotency-Key was already used with a different request; use a new key for a new request',
  );

export function createIdempotencyService({ db }: { db: Db }) {
  let writesSinceSweep = 0;

  return {
    /**
     * Runs a create under an Idempotency-Key. Its answer is stored in the same transaction as the create, so a
     * key either has the committed answer or nothing. A transaction-scoped advisory lock tells a concurrent repeat
     * that the first is still running (409) without making it wait. A refusal the client could see again (a 4xx
     * other than 401, 403 and 429) is stored too, after the create's savepoint has rolled back.
     */
    async run(
      request: IdempotentRequest,
      create: (tx: Db) => Promise<StoredResponse>,
      describeFailure: (error: unknown) => StoredResponse | null,
      executor: Db = db,
    ): Promise<Outcome> {
      const outcome = await inTransaction(executor, async (tx): Promise<Outcome> => {
        if (!(await repo.tryLockKey(tx, request.scope, request.key))) {
          throw conflict(
            'IDEMPOTENCY_KEY_IN_USE',
            'a request with this Idempotency-Key is still being processed; retry shortly',
          );
        }
        const stored = await repo.findStored(tx, request.scope, request.key);
        if (stored) {
          if (stored.fingerprint !== request.fingerprint) throw reusedWithOtherBody();
          return {
            kind: 'replay',
            response: { statusCode: stored.statusCode, body: stored.body, location: stored.location },
          };
        }
        let result: Outcome;
        let toStore: StoredResponse | null;
        try {
          const response = await inTransaction(tx, create);
          result = { kind: 'fresh', response };
          toStore = response;
        } catch (error) {
          // A deadlock or serialization failure is retried whole by the outer transaction, never stored.
          if (isRetryable(error)) throw error;
          result = { kind: 'failed', error };
          toStore = describeFailure(error);
        }
        if (toStore) await repo.insertStored(tx, { ...request, ...toStore });
        return result;
      });
      if (++writesSinceSweep >= 100) {
        writesSinceSweep = 0;
        await repo.deleteOlderThan(db, KEEP_HOURS);
      }
      return outcome;
    },
  };
}

export type IdempotencyService = ReturnType<typeof createIdempotencyService>;
