import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { migrationsApplied } from '../../db/migrate.js';
import { withTimeout } from '../../lib/time.js';

const Health = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
  database: Type.Union([Type.Literal('ok'), Type.Literal('unreachable')]),
  driver: Type.Union([Type.Literal('pglite'), Type.Literal('postgres')]),
});

const Live = Type.Object({ status: Type.Literal('ok') });

const Ready = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('unavailable')]),
  database: Type.Union([Type.Literal('ok'), Type.Literal('unreachable')]),
  migrations: Type.Union([Type.Literal('applied'), Type.Literal('pending'), Type.Literal('unknown')]),
});

// Probes never look at a token (so they answer while the database is down), are never rate limited, and are
// never cached.
const probe = { access: 'public', ignoresToken: true, rateLimit: false } as const;

export const healthRoutes: FastifyPluginAsyncTypebox<{ database: Database; timeoutMs: number }> = async (
  app,
  { database, timeoutMs },
) => {
  // Answer a little before the request deadline, so a hanging database gives this body rather than the generic 503.
  const checkWithin = Math.max(100, timeoutMs - 250);

  app.get(
    '/health',
    {
      config: probe,
      schema: {
        tags: ['health'],
        summary: 'Whether the service and its database answer',
        response: { 200: Health, 503: Health },
      },
    },
    async (_request, reply) => {
      try {
        await withTimeout(database.db.execute(sql`select 1`), checkWithin);
        return { status: 'ok' as const, database: 'ok' as const, driver: database.kind };
      } catch {
        return reply.code(503).send({ status: 'unavailable', database: 'unreachable', driver: database.kind });
      }
    },
  );

  app.get(
    '/health/live',
    {
      config: probe,
      schema: {
        tags: ['health'],
        summary: 'Liveness: the process answers (the database is not consulted)',
        response: { 200: Live },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/health/ready',
    {
      config: probe,
      schema: {
        tags: ['health'],
        summary: 'Readiness: 200 when the database answers and every migration is applied, 503 otherwise',
        response: { 200: Ready, 503: Ready },
      },
    },
    async (_request, reply) => {
      let applied: boolean;
      try {
        applied = await withTimeout(migrationsApplied(database), checkWithin);
      } catch {
        return reply.code(503).send({ status: 'unavailable', database: 'unreachable', migrations: 'unknown' });
      }
      if (!applied) return reply.code(503).send({ status: 'unavailable', database: 'ok', migrations: 'pending' });
      return { status: 'ready' as const, database: 'ok' as const, migrations: 'applied' as const };
    },
  );
};
