export type FieldError = { field: string; message: string };

/** What went wrong, in domain terms; http/errors.ts alone decides which HTTP status each kind becomes. */
export type ErrorKind =
  | 'invalid_input'
  | 'payment_required'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'precondition_failed'
  | 'unprocessable'
  | 'rate_limited'
  | 'unavailable';

export class AppError extends Error {
  override name = 'AppError';
  constructor(
    readonly kind: ErrorKind,
    readonly code: string,
    message: string,
    readonly fieldErrors?: FieldError[],
    /** Extra members for the problem body, such as the current state of a refused move. */
    readonly extra?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export const invalidInput = (code: string, message: string, fieldErrors: FieldError[]) =>
  new AppError('invalid_input', code, message, fieldErrors);

export const invalidField = (field: string, message: string, code = 'INVALID_FIELD') =>
  invalidInput(code, message, [{ field, message }]);

export const notFound = (resource: string) =>
  new AppError('not_found', `${resource.toUpperCase().replace(/ /g, '_')}_NOT_FOUND`, `${resource} not found`);

export const conflict = (code: string, message: string, fieldErrors?: FieldError[], extra?: Record<string, unknown>) =>
  new AppError('conflict', code, message, fieldErrors, extra);

/** Carries how long the client should wait; http/errors.ts turns it into Retry-After. */
export class RateLimitedError extends AppError {
  constructor(
    readonly retryAfterSeconds: number,
    message: string,
    code = 'TOO_MANY_ATTEMPTS',
  ) {
    super('rate_limited', code, message);
  }
}

/** The service cannot answer now but will again soon (its database is down or too slow): 503 with Retry-After. */
export class UnavailableError extends AppError {
  constructor(
    readonly retryAfterSeconds: number,
    code: string,
    message: string,
  ) {
    super('unavailable', code, message);
  }
}

/** Seconds a client should wait before trying again, for the errors that say so. */
export function retryAfterOf(error: unknown): number | undefined {
  return error instanceof RateLimitedError || error instanceof UnavailableError ? error.retryAfterSeconds : undefined;
}
