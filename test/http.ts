import type { LightMyRequestResponse } from 'fastify';
import type { App } from '../src/app.js';

export type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

/** Who sends a request: the headers that identify them (a bearer token once authentication exists). */
export type Caller = { name: string; headers: Record<string, string> };

export const anonymous: Caller = { name: 'anonymous', headers: {} };

export const TEST_ADMIN = { username: 'test-admin', email: 'test-admin@example.com', password: 'admin-password-1' };

const staffCallers = new WeakMap<App, Promise<Caller>>();

/**
 * A caller allowed to do everything: the store's staff (the admin every test app is started with). Tests of plain
 * resource behaviour use it so that they keep meaning the same thing under the access rules.
 */
export function staff(app: App): Promise<Caller> {
  let caller = staffCallers.get(app);
  if (!caller) {
    caller = logIn(app, TEST_ADMIN.username, TEST_ADMIN.password).then((headers) => ({ name: 'staff', headers }));
    staffCallers.set(app, caller);
  }
  return caller;
}

export async function logIn(app: App, username: string, password: string): Promise<Record<string, string>> {
  const response = await app.inject({ method: 'POST', url: '/auth/login', payload: { username, password } });
  if (response.statusCode !== 200)
    throw new Error(`login as ${username} failed: ${response.statusCode} ${response.body}`);
  return { authorization: `Bearer ${response.json<{ access_token: string }>().access_token}` };
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
