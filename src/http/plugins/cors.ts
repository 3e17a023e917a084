import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';

/** CORS stays off (no Access-Control headers at all) unless CORS_ORIGINS names the origins to allow. */
export async function registerCors(app: FastifyInstance, origins: string[]): Promise<void> {
  if (origins.length === 0) return;
  await app.register(cors, {
    origin: origins.includes('*') ? true : origins,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'If-Match', 'If-None-Match', 'X-Request-Id'],
    exposedHeaders: ['Location', 'Link', 'ETag', 'X-Request-Id', 'Retry-After'],
    maxAge: 600,
  });
}
