import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { etagOf } from '../../lib/etag.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** 'public': anyone may cache the answer but must revalidate it (product reads); otherwise no-store. */
    cache?: 'public';
  }
}

const matches = (header: string, etag: string) =>
  header
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => tag === '*' || tag === etag);

/**
 * Every 200 or 201 that carries one resource (and every list read) gets a strong ETag computed from what it
 * carries, the same way a service computes it when checking If-Match, so the two always agree. A read whose
 * If-None-Match still matches answers 304 with no body.
 */
export function registerEtags(app: FastifyInstance): void {
  app.addHook('preSerialization', async (request, reply, payload: unknown) => {
    const status = reply.statusCode;
    const single = payload && typeof payload === 'object' && !Array.isArray(payload);
    if ((status === 200 || status === 201) && single) reply.header('ETag', etagOf(payload));
    return payload;
  });

  app.addHook('onSend', async (request, reply, payload) => {
    if (!reply.hasHeader('cache-control') && !request.url.startsWith('/docs')) {
      reply.header(
        'Cache-Control',
        request.routeOptions.config.cache === 'public' ? 'public, max-age=0, must-revalidate' : 'no-store',
      );
    }
    // A list is never compared with If-Match, so hashing its serialised bytes is enough, and much cheaper.
    if (request.method === 'GET' && reply.statusCode === 200 && typeof payload === 'string' && payload[0] === '[') {
      reply.header('ETag', `"${createHash('sha256').update(payload).digest('base64url').slice(0, 27)}"`);
    }
    const etag = reply.getHeader('etag');
    const ifNoneMatch = request.headers['if-none-match'];
    if (request.method === 'GET' && reply.statusCode === 200 && typeof etag === 'string' && ifNoneMatch) {
      if (matches(ifNoneMatch, etag)) {
        reply.code(304);
        reply.removeHeader('content-length');
        return '';
      }
    }
    return payload;
  });
}
