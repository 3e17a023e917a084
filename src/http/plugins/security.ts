import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';

const API_CSP = "default-src 'none'; frame-ancestors 'none'";

export async function registerSecurity(app: FastifyInstance): Promise<void> {
  // The interactive docs set their own CSP; every JSON answer gets the strictest one.
  await app.register(helmet, { contentSecurityPolicy: false, global: true });
  app.addHook('onSend', async (request, reply) => {
    if (!reply.hasHeader('content-security-policy') && !request.url.startsWith('/docs')) {
      reply.header('Content-Security-Policy', API_CSP);
    }
  });
}
