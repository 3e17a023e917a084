import type { LightMyRequestResponse } from 'fastify';
import type { App } from '../src/app.js';

export type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

/** Who sends a request: the headers that identify them (a bearer token once authentication exists). */
export type Caller = { name: string; headers: Record<string, string> };

export const anonymous: Caller = { name: 'anonymous', headers: {} };

/**
 * A caller allowed to do everything: the store's staff. Tests of plain resource behaviour use it so that they
 * keep meaning the same thing once access rules exist.
 */
export async function staff(_app: App): Promise<Caller> {
  return { name: 'staff', headers: {} };
}

export function send(
  app: App,
  caller: Caller,
  method: Method,
  url: string,
  payload?: unknown,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  return app.inject({
    method,
    url,
    headers: { ...caller.headers, ...headers },
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });
}
