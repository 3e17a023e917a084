import { Type, type TSchema } from '@sinclair/typebox';
import { ProblemSchema } from './errors.js';

const DESCRIPTIONS: Record<number, string> = {
  400: 'invalid input; `errors` names each field',
  401: 'missing, expired or revoked bearer token',
  402: 'the payment was declined; the attempt is kept as failed',
  403: 'the caller may not use this route',
  404: 'no such resource',
  409: 'conflicts with the current state',
  412: 'If-Match no longer matches',
  413: 'body over the size limit',
  415: 'body is not JSON',
  422: 'the request cannot be processed as sent',
  429: 'too many requests',
  503: 'temporarily unavailable',
};

/** Problem+json responses for the OpenAPI document, one entry per status a route can answer with. */
export function problems(...statuses: number[]): Record<number, TSchema> {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      Type.Object(ProblemSchema.properties, { description: DESCRIPTIONS[status] ?? 'error' }),
    ]),
  );
}

export const NoContent = Type.Unsafe<void>({ type: 'null', description: 'done; no body' });

export const WRITE_ERRORS = [400, 413, 415] as const;

/** Documents the optional Idempotency-Key header of a create. */
export const IdempotencyKeyHeader = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      description:
        'a unique key per intended create (a UUID): a repeat with the same key and body gets the first answer back, with Idempotent-Replayed: true',
    }),
  ),
});

/** Documents the optional If-Match header of an update. */
export const IfMatchHeader = Type.Object({
  'if-match': Type.Optional(
    Type.String({
      description: 'the ETag last read; if the resource changed since, the answer is 412 and nothing changes',
    }),
  ),
});
