import type { FastifyInstance, HTTPMethods } from 'fastify';
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
  }
  interface FastifyRequest {
    actor: Actor | null;
    bearerToken: string | null;
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

/**
 * Every route must say who may call it; a route that does not stops the app from starting, so nothing added
 * later can slip past the checks. The token is checked before the body is even parsed: 401, then 403, then input.
 */
export function registerAuth(app: FastifyInstance, sessions: SessionsService): void {
  const table: RouteAccess[] = [];
  app.decorate('routeAccess', table);
  app.decorateRequest('actor', null);
  app.decorateRequest('bearerToken', null);

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
  });

  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config.access ?? 'public';
    const token = BEARER.exec(request.headers.authorization ?? '')?.[1];
    if (token) {
      request.actor = await sessions.authenticate(token);
      if (request.actor) request.bearerToken = token;
    }
    if (access === 'public') return;
    if (!request.actor) throw unauthenticated();
    if (access === 'staff' && request.actor.role !== 'admin') throw forbidden();
  });
}
