import type { FastifyInstance } from 'fastify';
import { actorLabel } from '../../lib/actor.js';

/**
 * One JSON line per answered request (Fastify's own pair of lines is switched off in app.ts): what was asked, of
 * which route, by whom, with what outcome and how long it took. The request id rides on every line of the request.
 * The query string is left out: it is the client's, and the route template says what was called.
 */
export function registerRequestLog(app: FastifyInstance): void {
  // Built only when written: under LOG_LEVEL=warn or quieter this costs nothing per request.
  const written = ['trace', 'debug', 'info'].includes(app.log.level);
  app.addHook('onResponse', (request, reply, done) => {
    if (written) {
      request.log.info(
        {
          method: request.method,
          route: request.routeOptions.url ?? null,
          path: request.url.split('?')[0],
          status: reply.statusCode,
          duration_ms: Math.round(reply.elapsedTime * 100) / 100,
          account: request.actor ? actorLabel(request.actor) : null,
        },
        'request completed',
      );
    }
    done();
  });
}
