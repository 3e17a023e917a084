import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Runs the real server (src/server.ts) as a child process with LOG_LEVEL=trace, talks to it over HTTP, and reads
 * everything it wrote: no password, token or password hash may appear in a single log line.
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const START_TIMEOUT_MS = 30_000;

const tag = randomBytes(4).toString('hex');
const secrets = {
  admin: `admin-secret-${tag}-1`,
  customer: `customer-secret-${tag}-2`,
  changed: `changed-secret-${tag}-3`,
  wrong: `wrong-secret-${tag}-4`,
  staff: `staff-secret-${tag}-5`,
  invalid: `invalid-secret-${tag}-6`,
};
const admin = { username: `log-admin-${tag}`, email: `log-admin-${tag}@example.com` };

describe('no secrets in the logs', () => {
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let output = '';
  let baseUrl = '';

  beforeAll(async () => {
    // PORT=0 lets the system pick a free port; Fastify logs the address it really listens on.
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: 'memory://',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'trace',
      ADMIN_USERNAME: admin.username,
      ADMIN_EMAIL: admin.email,
      ADMIN_PASSWORD: secrets.admin,
      CORS_ORIGINS: '',
    };
    delete env.TEST_DATABASE_URL;
    const started = spawn(TSX, ['src/server.ts'], {
      cwd: ROOT,
      env,
      detached: true, // its own process group, so tsx and the node process under it end together
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = started;
    exited = new Promise((resolve) => started.once('exit', () => resolve()));

    baseUrl = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the server did not start within ${START_TIMEOUT_MS} ms:\n${output}`)),
        START_TIMEOUT_MS,
      );
      const collect = (chunk: Buffer) => {
        output += chunk.toString('utf8');
        const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      };
      started.stdout.on('data', collect);
      started.stderr.on('data', collect);
      started.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      started.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the server exited with ${code} before listening:\n${output}`));
      });
    });
  }, START_TIMEOUT_MS + 10_000);

  afterAll(async () => {
    await stop();
  });

  /** Ends the server (SIGTERM, then SIGKILL after 5 s) and waits until it has exited and flushed its output. */
  async function stop(): Promise<void> {
    const running = child;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const signalGroup = (signal: NodeJS.Signals) => {
      try {
        process.kill(-running.pid!, signal);
      } catch {
        // Already gone.
      }
    };
    signalGroup('SIGTERM');
    const killer = setTimeout(() => signalGroup('SIGKILL'), 5_000);
    await exited;
    clearTimeout(killer);
  }

  async function call(method: string, path: string, body?: unknown, token?: string) {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, text, json: () => JSON.parse(text) as Record<string, unknown> };
  }

  async function login(username: string, password: string): Promise<string> {
    const response = await call('POST', '/auth/login', { username, password });
    expect(response.status, response.text).toBe(200);
    return response.json().access_token as string;
  }

  it(
    'never writes a password, a token or a password hash, even at trace level',
    async () => {
      const tokens: string[] = [];
      const username = `log_user_${tag}`;

      const signUp = await call('POST', '/customers', {
        username,
        password: secrets.customer,
        email_id: `${username}@example.com`,
        first_name: 'Ada',
        last_name: 'Lovelace',
      });
      expect(signUp.status, signUp.text).toBe(201);
      const customerId = signUp.json().id as number;

      tokens.push(await login(username, secrets.customer));
      const failed = await call('POST', '/auth/login', { username, password: secrets.wrong });
      expect(failed.status, failed.text).toBe(401);
      const invalid = await call('POST', '/customers', { username: 'x', password: secrets.invalid, email_id: 'no' });
      expect(invalid.status, invalid.text).toBe(400);

      const change = await call('PATCH', `/customers/${customerId}`, { password: secrets.changed }, tokens[0]);
      expect(change.status, change.text).toBe(200);
      expect((await call('GET', '/me', undefined, tokens[0])).status).toBe(401);

      tokens.push(await login(username, secrets.changed));
      const me = await call('GET', '/me', undefined, tokens[1]);
      expect(me.status, me.text).toBe(200);

      tokens.push(await login(admin.username, secrets.admin));
      const staffMember = await call(
        'POST',
        '/staff',
        { username: `log_staff_${tag}`, email_id: `log_staff_${tag}@example.com`, password: secrets.staff },
        tokens[2],
      );
      expect(staffMember.status, staffMember.text).toBe(201);
      expect((await call('GET', '/me', undefined, tokens[2])).status).toBe(200);
      expect((await call('POST', '/auth/logout', undefined, tokens[2])).status).toBe(204);

      await stop();

      // The logs were captured at all: the requests above are in them.
      expect(output).toContain('/auth/login');
      expect(output).toContain(`/customers/${customerId}`);

      const leaks = [...Object.values(secrets), ...tokens, 'scrypt$', 'password_hash'].filter((secret) =>
        output.includes(secret),
      );
      expect(leaks, output.slice(-5_000)).toEqual([]);
      // Nor the token's random part alone, in case something logs it without its prefix.
      for (const token of tokens) expect(output).not.toContain(token.replace(/^st_/, ''));
    },
    START_TIMEOUT_MS + 30_000,
  );
});
