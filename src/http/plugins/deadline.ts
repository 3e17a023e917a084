import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DATABASE_RETRY_AFTER_SECONDS } from '../../db/errors.js';
import { problem, sendProblem } from '../errors.js';

type Deadline = {
  /** The client was answered 503 already: a create this request started must roll back, not commit. */
  abandoned: boolean;
  timer: NodeJS.Timeout | undefined;
  /** When the request arrived, plus the time its body took to come in: a slow upload is the client's time. */
  dueAt: number;
  /** Set while the body is arriving; a clock that runs out meanwhile is set again once it has. */
  bodySince: number | undefined;
};

declare module 'fastify' {
  interface FastifyRequest {
    deadline: Deadline | null;
  }
}

/**
 * Every request is answered within `timeoutMs` of its arrival: if its work (most often a database that is down or
 * stuck) has not answered by then, the client gets 503 with Retry-After, and the request is marked abandoned so that
 * a create it started (see respondOnce) rolls back instead of committing behind the client's back.
 */
export function registerDeadlines(app: FastifyInstance, timeoutMs: number): void {
  app.decorateRequest('deadline', null);

  const expire = (request: FastifyRequest, reply: FastifyReply) => {
    const deadline = request.deadline!;
    deadline.timer = undefined;
    if (reply.sent) return;
    if (deadline.bodySince !== undefined) return;
    deadline.abandoned = true;
    reply.header('Retry-After', String(DATABASE_RETRY_AFTER_SECONDS));
    void sendProblem(
      reply,
      problem(503, 'DATABASE_TIMEOUT', `no answer within ${timeoutMs} ms; try again shortly`, String(request.id)),
    );
  };
  const schedule = (request: FastifyRequest, reply: FastifyReply) => {
    const deadline = request.deadline!;
    if (deadline.timer) clearTimeout(deadline.timer);
    deadline.timer = setTimeout(expire, Math.max(0, deadline.dueAt - Date.now()), request, reply);
    deadline.timer.unref();
  };

  // Callback-style hooks throughout: they run on every request, and an async hook costs a promise each time.
  app.addHook('onRequest', (request, reply, done) => {
    request.deadline = {
      abandoned: false,
      timer: undefined,
      dueAt: Date.now() + timeoutMs,
      bodySince: undefined,
    };
    schedule(request, reply);
    done();
  });
  app.addHook('preParsing', (request, _reply, payload, done) => {
    if (request.deadline) request.deadline.bodySince = Date.now();
    done(null, payload);
  });
  app.addHook('preValidation', (request, reply, done) => {
    const deadline = request.deadline;
    if (deadline && deadline.bodySince !== undefined) {
      deadline.dueAt += Date.now() - deadline.bodySince;
      deadline.bodySince = undefined;
      if (!reply.sent) schedule(request, reply);
    }
    done();
  });
  const stop = (request: FastifyRequest, done: () => void) => {
    if (request.deadline?.timer) clearTimeout(request.deadline.timer);
    done();
  };
  app.addHook('onResponse', (request, _reply, done) => stop(request, done));
  app.addHook('onRequestAbort', stop);
}
