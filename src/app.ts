import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Config } from './config.js';
import { createDatabase, type Database, type QueryListener } from './db/client.js';
import { createRedisBus } from './lib/invalidation-bus.js';
import { createProductCache } from './modules/products/product-cache.js';
import { runMigrations } from './db/migrate.js';
import { registerErrorHandling, registerNotFound } from './http/errors.js';
import { registerAuth } from './http/plugins/auth.js';
import { registerCors } from './http/plugins/cors.js';
import { registerDeadlines } from './http/plugins/deadline.js';
import { registerRateLimit } from './http/plugins/rate-limit.js';
import { registerRequestLog } from './http/plugins/request-log.js';
import { registerDocs } from './http/plugins/docs.js';
import { registerEtags } from './http/plugins/etag.js';
import { registerRequestIds, requestIdOptions } from './http/plugins/request-id.js';
import { registerSecurity } from './http/plugins/security.js';
import { registerValidation } from './http/validation.js';
import { createServices, type Services } from './services.js';
import { authRoutes } from './modules/auth/auth.routes.js';
import { contactsRoutes } from './modules/contacts/contacts.routes.js';
import { customersRoutes } from './modules/customers/customers.routes.js';
import { inventoryRoutes } from './modules/inventory/inventory.routes.js';
import { healthRoutes } from './modules/health/health.routes.js';
import { metricsSource } from './modules/metrics/cluster-metrics.js';
import { createMetrics } from './modules/metrics/metrics.js';
import { metricsRoutes, registerRequestMetrics } from './modules/metrics/metrics.routes.js';
import { ordersRoutes } from './modules/orders/orders.routes.js';
import { paymentsRoutes } from './modules/payments/payments.routes.js';
import { paymentWebhookRoutes } from './modules/payments/webhooks.routes.js';
import { returnsRoutes } from './modules/returns/returns.routes.js';
import { carrierWebhookRoutes } from './modules/shipments/carrier-webhooks.routes.js';
import { shipmentsRoutes } from './modules/shipments/shipments.routes.js';
import { productsRoutes } from './modules/products/products.routes.js';
import { staffRoutes } from './modules/staff/staff.routes.js';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    database: Database;
    /** The wired services, for scripts and tests that act without HTTP (the unpaid-order sweep, say). */
    services: Services;
  }
}

export type App = FastifyInstance;

export type BuildOptions = {
  /** Runs after the app and its database have closed (tests drop their throw-away database here). */
  afterClose?: () => Promise<void>;
  /** False in cluster workers: the primary has migrated once before forking them. */
  migrate?: boolean;
  /** Sees every SQL statement; tests count queries with it. */
  onQuery?: QueryListener;
  /** Where the JSON log lines go instead of standard output (tests read them here). */
  logStream?: { write(line: string): void };
};

/** The one way to get an app: the server, the tests and the benchmark all come through here. */
export async function buildApp(config: Config, options: BuildOptions = {}): Promise<App> {
  const database = await createDatabase(config, options.onQuery);
  try {
    if (options.migrate !== false) await runMigrations(database);
  } catch (error) {
    await database.close();
    throw error;
  }

  const app = Fastify({
    logger: {
      level: config.logLevel,
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.password_hash'],
        censor: '[redacted]',
      },
      ...(options.logStream ? { stream: options.logStream } : {}),
    },
    bodyLimit: config.bodyLimit,
    // One line per request, written by registerRequestLog, instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'request_id' }),
    trustProxy: config.trustProxy,
    ...requestIdOptions,
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.decorate('config', config);
  app.decorate('database', { getter: () => database });
  const bus = config.redisUrl
    ? await createRedisBus(config.redisUrl, (error) => app.log.warn({ err: error }, 'redis: %s', error.message))
    : undefined;
  // Several processes without a bus cannot tell each other about writes, so they do without the cache.
  const productCache = createProductCache({ enabled: config.workers === 1 || bus !== undefined, bus });
  app.addHook('onClose', async () => {
    await bus?.close();
    await database.close();
    await options.afterClose?.();
  });

  // Only JSON bodies are accepted; anything else is a 415.
  app.removeContentTypeParser('text/plain');
  // An action such as POST /orders/{id}/cancel needs no body; a client that still says application/json with an
  // empty one gets the same answer as one that sends nothing. A route that needs a body refuses it in validation.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) =>
    body === '' ? done(null, undefined) : parseJson(request, body.toString(), done),
  );
  registerValidation(app);
  registerErrorHandling(app);
  registerRequestIds(app);
  registerDeadlines(app, config.dbTimeoutMs);
  registerRequestLog(app);
  await registerSecurity(app);

  registerEtags(app);

  const metrics = createMetrics(database);
  registerRequestMetrics(app, metrics);
  const services = createServices(database.db, config, productCache, { paymentOutcome: metrics.paymentOutcome });
  app.decorate('services', services);
  const { sessions, auth, staff, customers, contacts, products, stock, ledger, orders, idempotency } = services;
  const { payments, providers, shipments, returns } = services;

  // Before auth: its per-route hook must run ahead of the access check, so bad tokens are throttled too.
  await registerRateLimit(app, { ...config, db: database.db, onLimited: metrics.rateLimited });
  registerNotFound(app, config.rateLimitPerMinute > 0 ? app.rateLimit() : undefined);
  // Before the docs, so that every route's access level is settled when the OpenAPI document records it.
  registerAuth(app, sessions, config.metricsToken);
  await registerCors(app, config.corsOrigins);
  await registerDocs(app);

  await app.register(healthRoutes, { database, timeoutMs: config.dbTimeoutMs });
  await app.register(metricsRoutes, { metrics, collect: metricsSource(metrics.registry) });
  await app.register(authRoutes, { auth });
  await app.register(staffRoutes, { staff, idempotency });
  await app.register(customersRoutes, { customers, idempotency });
  await app.register(contactsRoutes, { contacts, idempotency });
  await app.register(productsRoutes, { products, idempotency });
  await app.register(inventoryRoutes, { stock, ledger, idempotency });
  await app.register(ordersRoutes, { orders, idempotency });
  await app.register(paymentsRoutes, { payments, idempotency });
  await app.register(paymentWebhookRoutes, { payments, providers });
  await app.register(shipmentsRoutes, { shipments, idempotency });
  await app.register(carrierWebhookRoutes, { shipments, secret: config.carrierWebhookSecret });
  await app.register(returnsRoutes, { returns, idempotency });

  if (config.pendingOrderTtlMinutes > 0) {
    const sweep = () =>
      orders
        .expirePendingOrders(config.pendingOrderTtlMinutes)
        .then((count) => count > 0 && app.log.info({ count }, 'cancelled unpaid orders past PENDING_ORDER_TTL_MINUTES'))
        .catch((error: unknown) => app.log.warn({ err: error }, 'the unpaid-order sweep failed; it will run again'));
    const timer = setInterval(() => void sweep(), 30_000);
    timer.unref();
    app.addHook('onClose', async () => clearInterval(timer));
  }

  if (config.admin) {
    const outcome = await staff.ensureAdmin(config.admin);
    if (outcome === 'created')
      app.log.info({ username: config.admin.username }, 'created the admin from ADMIN_USERNAME');
    if (outcome === 'taken') {
      app.log.warn(
        { username: config.admin.username },
        'ADMIN_USERNAME or ADMIN_EMAIL belongs to a customer; no admin made',
      );
    }
  }

  await app.ready();
  return app;
}
