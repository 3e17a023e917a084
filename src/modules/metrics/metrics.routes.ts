import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Metrics } from './metrics.js';

/** Counts every answer app-wide by route template (never the raw URL, so ids do not explode the label space). */
export function registerRequestMetrics(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.recordRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    if (request.method === 'POST' && route === '/orders' && reply.statusCode === 201) {
      if (!reply.getHeader('idempotent-replayed')) metrics.orderPlaced();
    }
    done();
  });
}

export const metricsRoutes: FastifyPluginAsyncTypebox<{ metrics: Metrics; collect: () => Promise<string> }> = async (
  app,
  { metrics, collect },
) => {
  app.get(
    '/metrics',
    {
      config: { access: 'staff', metricsToken: true, rateLimit: false },
      schema: {
        tags: ['health'],
        summary: 'Prometheus metrics (text format), for a staff token or METRICS_TOKEN',
        description:
          'Requests by route and status, latency by route, the database pool, orders placed, payments by ' +
          'outcome, rate-limited requests, and process memory and event-loop lag. With WORKERS, the sum over ' +
          'all workers.',
      },
    },
    async (_request, reply) => {
      const text = await collect();
      return reply.type(metrics.registry.contentType).send(text);
    },
  );
};
