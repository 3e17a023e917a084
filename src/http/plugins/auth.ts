import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest, HTTPMethods, onRequestAsyncHookHandler } from 'fastify';
import { AppError } from '../../lib/errors.js';
import { problems } from '../responses.js';
import type { Actor } from '../../lib/actor.js';
import type { SessionsService } from '../../modules/accounts/sessions.service.js';

/** public: anyone; authenticated: any valid token (ownership checked by the service); staff: admins only. */
export type Access = 'public' | 'authenticated' | 'staff';

export type RouteAccess = { method: string; url: string; access: Access };

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
    /** Staff route that a scraper may also read with METRICS_TOKEN as its bearer token. */
    metricsToken?: boolean;
    /** Never looks at the bearer token, so it answers even while the database (where tokens live) is down. */
    ignoresToken?: boolean;
  }
  interface FastifyRequest {
    actor: Actor | null;
    bearerToken: string | null;
    /** Came with METRICS_TOKEN on a route that accepts it. */
    metricsScraper: boolean;
  }
  interface FastifyInstance {
    routeAccess: RouteAccess[];
  }
}

const DOC_ROUTES = /^\/(docs|openapi\.json)/;
const BEARER = /^Bearer +(\S+)$/i;

export const unauthenticated = () =>
  new AppError('unauthenticated', 'UNAUTHENTICATED', 'a valid bearer token is required (Authorization: Bearer …)');
export const forbidden = () => new AppError('forbidden', 'FORBIDDEN', 'only staff may use this route');

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Compares in constant time, so the token cannot be guessed a character at a time from response times. */
function matchesSecret(secret: string): (candidate: string) => boolean {
  if (!secret) return () => false;
  const expected = digest(secret);
  return (candidate) => timingSafeEqual(digest(candidate), expected);
}

const checkAccess: onRequestAsyncHookHandler = async function (this: FastifyInstance, request: FastifyRequest) {
  const { access = 'public', metricsToken } = request.routeOptions.config;
  if (access === 'public' || (metricsToken && request.metricsScraper)) return;
  if (!request.actor) throw unauthenticated();
  if (access === 'staff' && request.actor.role !== 'admin') throw forbidden();
};

/**
 * Every route must say who may call it; a route that does not stops the app from starting, so nothing added
 * later can slip past the checks. The token is read first (app-wide), so the rate limit can count by account;
 * the access check then runs per route, after the rate limit and before the body is even parsed: 401, then 403,
 * then input.
 */
export function registerAuth(app: FastifyInstance, sessions: SessionsService, metricsToken = ''): void {
  const table: RouteAccess[] = [];
  const isMetricsToken = matchesSecret(metricsToken);
  app.decorate('routeAccess', table);
  app.decorateRequest('actor', null);
  app.decorateRequest('bearerToken', null);
  app.decorateRequest('metricsScraper', false);

  app.addHook('onRoute', (route) => {
    // The docs and CORS preflights (OPTIONS) are open by nature; every other route must say.
    const open = DOC_ROUTES.test(route.url) || route.method === 'OPTIONS';
    const access = route.config?.access ?? (open ? 'public' : undefined);
    if (!access) throw new Error(`${String(route.method)} ${route.url} declares no config.access`);
    route.config = { ...route.config, access };
    if (access !== 'public' && route.schema) {
      const statuses = access === 'staff' ? [401, 403] : [401];
      route.schema = {
        ...route.schema,
        security: [{ bearerAuth: [] }],
        response: { ...problems(...statuses), ...(route.schema.response as object | undefined) },
      };
    }
    const methods = ([] as HTTPMethods[]).concat(route.method);
    for (const method of methods) if (method !== 'HEAD') table.push({ method, url: route.url, access });
    const earlier =
      route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest];
    route.onRequest = [...earlier, checkAccess];
  });

  app.addHook('onRequest', async (request) => {
    const { ignoresToken, metricsToken: acceptsMetricsToken } = request.routeOptions.config;
    if (ignoresToken) return;
    const token = BEARER.exec(request.headers.authorization ?? '')?.[1];
    if (!token) return;
    if (acceptsMetricsToken && isMetricsToken(token)) {
      request.metricsScraper = true;
      return;
    }
    request.actor = await sessions.authenticate(token);
    if (request.actor) request.bearerToken = token;
  });
}
