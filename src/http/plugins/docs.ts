import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

export async function registerDocs(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Storefront API',
        version: '0.1.0',
        description:
          'Customers, contacts, products and orders of an online store. Send `Authorization: Bearer <token>` from POST /auth/login. Errors are application/problem+json (RFC 9457). Lists are JSON arrays paged by `limit` and an opaque `cursor`; the next page is in the `Link` header.',
      },
      tags: [
        'auth',
        'customers',
        'contacts',
        'products',
        'orders',
        'payments',
        'webhooks',
        'inventory',
        'staff',
        'health',
      ].map((name) => ({ name })),
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'a token from POST /auth/login' },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  app.get('/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, async () => app.swagger());
}
