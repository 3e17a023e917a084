import { AppError, conflict, invalidField, UnavailableError } from '../lib/errors.js';

type PgErrorLike = { code?: string; constraint?: string };

const UNIQUE_CONSTRAINTS: Record<string, { code: string; field: string; message: string }> = {
  customers_username_lower_key: { code: 'USERNAME_TAKEN', field: 'username', message: 'username is already taken' },
  customers_email_id_lower_key: { code: 'EMAIL_TAKEN', field: 'email_id', message: 'email_id is already taken' },
  login_names_username_key: { code: 'USERNAME_TAKEN', field: 'username', message: 'username is already taken' },
  login_names_email_key: { code: 'EMAIL_TAKEN', field: 'email_id', message: 'email_id is already taken' },
  staff_username_lower_key: { code: 'USERNAME_TAKEN', field: 'username', message: 'username is already taken' },
  staff_email_id_lower_key: { code: 'EMAIL_TAKEN', field: 'email_id', message: 'email_id is already taken' },
  products_sku_key: { code: 'SKU_TAKEN', field: 'sku', message: 'sku is already taken' },
};

/** Drizzle wraps driver errors; the PostgreSQL fields live on the cause. */
export function pgErrorOf(error: unknown): PgErrorLike | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 3 && current && typeof current === 'object'; depth++) {
    const candidate = current as PgErrorLike & { cause?: unknown };
    if (typeof candidate.code === 'string' && /^[0-9A-Z]{5}$/.test(candidate.code)) return candidate;
    current = candidate.cause;
  }
  return undefined;
}

export const SERIALIZATION_FAILURE = '40001';
export const DEADLOCK_DETECTED = '40P01';

// The socket-level failures of reaching a server that is down, restarting or unreachable.
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
// admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections, query_canceled (statement_timeout).
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '57014']);
// node-postgres reports a lost or unobtainable connection with plain Errors that carry no code.
const UNAVAILABLE_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|not queryable|Cannot use a pool after calling end|Connection ended/i;

export const DATABASE_RETRY_AFTER_SECONDS = 2;

/** Whether the database could not be reached or did not answer in time: the request may work if tried again. */
export function isDatabaseUnavailable(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    const candidate = current as { code?: unknown; message?: unknown; cause?: unknown };
    const code = typeof candidate.code === 'string' ? candidate.code : '';
    if (NETWORK_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code) || code.startsWith('08')) return true;
    if (typeof candidate.message === 'string' && UNAVAILABLE_MESSAGES.test(candidate.message)) return true;
    current = candidate.cause;
  }
  return false;
}

export const databaseUnavailable = () =>
  new UnavailableError(
    DATABASE_RETRY_AFTER_SECONDS,
    'DATABASE_UNAVAILABLE',
    'the database is unavailable right now; try again shortly (a create with the same Idempotency-Key is safe to repeat)',
  );

/** Turns a database refusal into the domain error a client can act on, or undefined when it is a real fault. */
export function domainErrorFromDb(error: unknown): AppError | undefined {
  if (isDatabaseUnavailable(error)) return databaseUnavailable();
  const pgError = pgErrorOf(error);
  if (!pgError) return undefined;
  if (pgError.code === '23505' && pgError.constraint) {
    const known = UNIQUE_CONSTRAINTS[pgError.constraint];
    if (known) return conflict(known.code, known.message, [{ field: known.field, message: known.message }]);
  }
  if (pgError.code === '22P02' || pgError.code === '22003') {
    return invalidField('body', 'a value is out of range for its field');
  }
  return undefined;
}

// A row is still referenced by a foreign key: 23503 up to PostgreSQL 17; PostgreSQL 18 (which PGlite 0.5 embeds)
// reports an ON DELETE RESTRICT refusal as 23001 restrict_violation.
const STILL_REFERENCED = new Set(['23503', '23001']);

export const isStillReferenced = (error: unknown): boolean => STILL_REFERENCED.has(pgErrorOf(error)?.code ?? '');
