import { createHash } from 'node:crypto';
import { AppError } from './errors.js';

/**
 * JSON with every object's keys sorted and undefined members left out, so equal values give equal text whatever
 * order their keys were set in. Built by concatenation: it runs on every answer that carries one resource.
 */
function canonical(value: unknown): string {
  if (Array.isArray(value)) {
    let text = '[';
    for (let i = 0; i < value.length; i++) text += `${i === 0 ? '' : ','}${canonical(value[i]) ?? ''}`;
    return `${text}]`;
  }
  if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record).sort();
    let text = '{';
    for (const key of keys) {
      const member = record[key];
      if (member === undefined) continue;
      text += `${text.length === 1 ? '' : ','}${JSON.stringify(key)}:${canonical(member)}`;
    }
    return `${text}}`;
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
