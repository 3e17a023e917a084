import rateLimit, { type RateLimitPluginOptions } from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config.js';
import type { Db } from '../../db/client.js';
import { actorLabel } from '../../lib/actor.js';
import { RateLimitedError } from '../../lib/errors.js';
import { deleteEndedWindows, postgresRateLimitStore } from './rate-limit-store.js';

type Options = Pick<Config, 'rateLimitPerMinute' | 'redisUrl' | 'workers'> & {
  db: Db;
  onLimited: () => void;
};

/**
 * RATE_LIMIT_PER_MINUTE requests a minute for every client: its account when it sent a valid token, its address
 * otherwise. Must be registered before the auth plugin's routes so that a flood of bad tokens is throttled too
 * (the limit runs before the access check). Counts live in Redis when REDIS_URL is set, in PostgreSQL when several
 * workers share no Redis, and in this process's memory otherwise. A store that fails lets requests through.
 */
export async function registerRateLimit(app: FastifyInstance, options: Options): Promise<void> {
  if (options.rateLimitPerMinute === 0) return;
  const settings: RateLimitPluginOptions = {
    global: true,
    max: options.rateLimitPerMinute,
    timeWindow: 60_000,
    hook: 'onRequest',
    enableDraftSpec: true,
    skipOnError: true,
    keyGenerator: (request) => (request.actor ? actorLabel(request.actor) : `address:${request.ip}`),
    onExceeded: () => options.onLimited(),
    errorResponseBuilder: (_request, context) =>
      new RateLimitedError(
        Math.ceil(context.ttl / 1000),
        `more than ${context.max} requests a minute; try again in ${context.after}`,
        'RATE_LIMITED',
      ),
  };

  if (options.redisUrl) {
    const { Redis } = await import('ioredis');
    // No offline queue and one try: while Redis is away, requests pass instead of waiting for it.
    const redis = new Redis(options.redisUrl, {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      connectTimeout: 1000,
    });
    redis.on('error', (error: Error) => app.log.warn({ err: error }, 'redis (rate limit): %s', error.message));
    app.addHook('onClose', async () => {
      redis.disconnect();
    });
    settings.redis = redis;
    settings.nameSpace = 'storefront-rate-limit:';
  } else if (options.workers > 1) {
    settings.store = postgresRateLimitStore(options.db);
    const sweep = setInterval(() => void deleteEndedWindows(options.db).catch(() => undefined), 60_000);
    sweep.unref();
    app.addHook('onClose', async () => clearInterval(sweep));
  }
  await app.register(rateLimit, settings);
}
