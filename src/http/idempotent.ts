import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../db/client.js';
import { guardedHandle } from '../db/transaction.js';
import { actorLabel } from '../lib/actor.js';
import { invalidField } from '../lib/errors.js';
import { fingerprintOf } from '../lib/etag.js';
import type { IdempotencyService, StoredResponse } from '../modules/idempotency/idempotency.service.js';
import { sendProblem, toProblem, type Problem } from './errors.js';

const KEY = /^[\x21-\x7e]{1,255}$/;
const NOT_STORED = new Set([401, 403, 429]);

type Created<T> = { status: number; body: T; location?: string };

/**
 * Answers a create, honouring an Idempotency-Key header when there is one: the first answer is stored with the
 * key (scoped to the caller's account) and every repeat with the same request gets it back, marked
 * Idempotent-Replayed. Without the header the create simply runs.
 */
export async function respondOnce<T>(
  request: FastifyRequest,
  reply: FastifyReply,
  idempotency: IdempotencyService,
  create: (executor?: Db) => Promise<Created<T>>,
): Promise<FastifyReply> {
  // Its transaction rolls back rather than commit once the client has been answered 503 for taking too long.
  const executor = guardedHandle(request.server.database.db, () => request.deadline?.abandoned === true);
  const key = request.headers['idempotency-key'];
  if (key === undefined) return send(reply, await create(executor));
  if (typeof key !== 'string' || !KEY.test(key)) {
    throw invalidField('Idempotency-Key', 'Idempotency-Key must be 1–255 visible ASCII characters');
  }
  const outcome = await idempotency.run(
    {
      scope: request.actor ? actorLabel(request.actor) : 'anonymous',
      key,
      fingerprint: fingerprintOf({
        route: `${request.method} ${request.routeOptions.url}`,
        params: request.params,
        body: request.body,
      }),
    },
    async (tx) => {
      const created = await create(tx);
      return { statusCode: created.status, body: created.body, location: created.location ?? null };
    },
    (error) => {
      const problem = toProblem(error, request);
      if (problem.status >= 500 || NOT_STORED.has(problem.status)) return null;
      return { statusCode: problem.status, body: problem, location: null };
    },
    executor,
  );
  if (outcome.kind === 'failed') throw outcome.error;
  if (outcome.kind === 'fresh') return sendStored(reply, outcome.response);
  reply.header('Idempotent-Replayed', 'true');
  return sendStored(reply, outcome.response);
}

function send<T, R extends FastifyReply>(reply: R, created: Created<T>): R {
  if (created.location) reply.header('Location', created.location);
  if (created.status >= 400) return sendProblem(reply, created.body as Problem) as R;
  return reply.code(created.status).send(created.body) as R;
}

function sendStored<R extends FastifyReply>(reply: R, stored: StoredResponse): R {
  if (stored.location) reply.header('Location', stored.location);
  if (stored.statusCode >= 400) return sendProblem(reply, stored.body as Problem) as R;
  return reply.code(stored.statusCode).send(stored.body) as R;
}
