import { AppError, conflict, invalidField } from '../lib/errors.js';

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

/** Turns a database refusal into the domain error a client can act on, or undefined when it is a real fault. */
export function domainErrorFromDb(error: unknown): AppError | undefined {
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
