import type { FastifyInstance } from 'fastify';
import { etagOf } from '../../lib/etag.js';

/**
 * Every 200 or 201 that carries one resource gets a strong ETag computed from that resource, the same way a
 * service computes it when checking If-Match, so the two always agree.
 */
export function registerEtags(app: FastifyInstance): void {
  app.addHook('preSerialization', async (_request, reply, payload: unknown) => {
    const status = reply.statusCode;
    if ((status === 200 || status === 201) && payload && typeof payload === 'object' && !Array.isArray(payload)) {
      reply.header('ETag', etagOf(payload));
    }
    return payload;
  });
}
