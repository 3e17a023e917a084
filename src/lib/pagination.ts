import { Type } from '@sinclair/typebox';
import { invalidField } from './errors.js';

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 200;

export const PageQuery = {
  limit: Type.Integer({
    minimum: 1,
    maximum: MAX_LIMIT,
    default: DEFAULT_LIMIT,
    description: 'page size, at most 200',
  }),
  cursor: Type.String({
    minLength: 1,
    maxLength: 512,
    description: "opaque cursor from the previous page's Link header",
  }),
};

export type Page<T> = { items: T[]; nextCursor: string | null };

/** The cursor is opaque to clients: base64url of the sort key of the last row seen. */
export function encodeCursor(key: unknown[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor(cursor: string | undefined, validate: (key: unknown[]) => boolean): unknown[] | undefined {
  if (cursor === undefined) return undefined;
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(key) && validate(key as unknown[])) return key as unknown[];
  } catch {
    // fall through to the 400 below
  }
  throw invalidField('cursor', 'cursor is not valid for this list');
}

/** Fetch limit + 1 rows; the extra one only tells whether another page exists. */
export function toPage<T>(rows: T[], limit: number, keyOf: (row: T) => unknown[]): Page<T> {
  if (rows.length <= limit) return { items: rows, nextCursor: null };
  const items = rows.slice(0, limit);
  return { items, nextCursor: encodeCursor(keyOf(items[items.length - 1]!)) };
}

export const isPositiveInt = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) > 0;

/** The next page's URL: the same path and query, with the cursor replaced. */
export function nextLink(requestUrl: string, nextCursor: string): string {
  const url = new URL(requestUrl, 'http://placeholder');
  url.searchParams.set('cursor', nextCursor);
  return `<${url.pathname}${url.search}>; rel="next"`;
}

/** The last id seen, for lists ordered by id alone. */
export const decodeIdCursor = (cursor: string | undefined): number | undefined =>
  decodeCursor(cursor, (k) => k.length === 1 && isPositiveInt(k[0]))?.[0] as number | undefined;
