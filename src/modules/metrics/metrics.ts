import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Database } from '../../db/client.js';

/** The instruments the app records into; one registry per app, so tests can run several apps in one process. */
export type Metrics = ReturnType<typeof createMetrics>;

export function createMetrics(database: Database) {
  const registry = new Registry();
  // Process memory, CPU, event-loop lag (nodejs_eventloop_lag_*), heap and GC, as prom-client measures them.
  collectDefaultMetrics({ register: registry });

  const requests = new Counter({
    name: 'http_requests_total',
    help: 'Requests answered, by method, route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from a request arriving to its answer being sent, by method and route template',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const ordersPlaced = new Counter({
    name: 'orders_placed_total',
    help: 'Orders created (a replayed Idempotency-Key is not counted again)',
    registers: [registry],
  });
  const payments = new Counter({
    name: 'payments_total',
    help: 'Payment attempts by the outcome they reached: captured, authorized, pending, failed',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const rateLimited = new Counter({
    name: 'rate_limited_requests_total',
    help: 'Requests refused with 429 by RATE_LIMIT_PER_MINUTE',
    registers: [registry],
  });
  // Read when scraped; embedded PGlite has no pool, so both stay 0 there.
  const pool = database.kind === 'postgres' ? database.pool : undefined;
  new Gauge({
    name: 'db_pool_connections_in_use',
    help: 'Database connections checked out of the pool',
    registers: [registry],
    collect() {
      this.set(pool ? pool.totalCount - pool.idleCount : 0);
    },
  });
  new Gauge({
    name: 'db_pool_waiting_requests',
    help: 'Queries waiting for a free database connection',
    registers: [registry],
    collect() {
      this.set(pool ? pool.waitingCount : 0);
    },
  });

  return {
    registry,
    recordRequest(method: string, route: string, status: number, seconds: number) {
      requests.inc({ method, route, status: String(status) });
      duration.observe({ method, route }, seconds);
    },
    orderPlaced: () => ordersPlaced.inc(),
    paymentOutcome: (outcome: string) => payments.inc({ outcome }),
    rateLimited: () => rateLimited.inc(),
  };
}
