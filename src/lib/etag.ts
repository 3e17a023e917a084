import { createHash } from 'node:crypto';
import { AppError } from './errors.js';

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** A strong ETag: a hash of the representation itself, so it changes exactly when the representation does. */
export const etagOf = (representation: unknown): string =>
  `"${createHash('sha256').update(canonical(representation)).digest('base64url').slice(0, 27)}"`;

/** Same canonical form, for comparing request bodies "as parsed JSON". */
export const fingerprintOf = (value: unknown): string => createHash('sha256').update(canonical(value)).digest('hex');

/**
 * Checks an If-Match header against the current representation, inside the writer's transaction after its row
 * lock, so of two racing writers holding the same ETag only the first can pass.
 */
export function assertIfMatch(ifMatch: string | undefined, current: unknown): void {
  if (ifMatch === undefined) return;
  const wanted = ifMatch.split(',').map((tag) => tag.trim());
  if (wanted.includes('*') || wanted.includes(etagOf(current))) return;
  throw new AppError(
    'precondition_failed',
    'PRECONDITION_FAILED',
    'If-Match no longer matches: the resource changed since you read it; read it again and retry',
  );
}
