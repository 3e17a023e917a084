import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';

/** A refusal: the floor answers the same status and code as the app, with a shorter problem body. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    detail: string,
  ) {
    super(detail);
  }
}

export const notFound = (what: string) => new HttpError(404, 'NOT_FOUND', `${what} not found`);
export const badInput = (code: string, detail: string) => new HttpError(400, code, detail);

// The app's ETag: a hash of the representation with its keys sorted (src/lib/etag.ts), so the headers match too.
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
const etagOf = (value: unknown) =>
  `"${createHash('sha256').update(canonical(value)).digest('base64url').slice(0, 27)}"`;

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    // As the app: a single resource by its canonical form, a list page by its bytes.
    etag: Array.isArray(body)
      ? `"${createHash('sha256').update(text).digest('base64url').slice(0, 27)}"`
      : etagOf(body),
    ...headers,
  });
  res.end(text);
}

export function sendProblem(res: ServerResponse, status: number, code: string, detail: string) {
  const text = JSON.stringify({ type: 'about:blank', status, code, detail });
  res.writeHead(status, {
    'content-type': 'application/problem+json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...(status === 401 ? { 'www-authenticate': 'Bearer' } : {}),
  });
  res.end(text);
}

/** The next page's URL: the same path and query with the cursor replaced, as src/lib/pagination.ts makes it. */
export function nextLink(requestUrl: string, cursor: string): string {
  const url = new URL(requestUrl, 'http://placeholder');
  url.searchParams.set('cursor', cursor);
  return `<${url.pathname}${url.search}>; rel="next"`;
}
