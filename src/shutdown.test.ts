import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminQuery } from '../test/app.js';
import {
  freePort,
  httpRequest,
  refusesConnections,
  startServer,
  waitUntilOk,
  type Exit,
  type ServerProcess,
} from '../test/server-process.js';

/**
 * Issue 8, graceful shutdown: the real server process (src/server.ts, run by node itself so that the PID signalled
 * is the server's) is sent SIGTERM while clients keep it busy. Every request that was on the wire before the signal
 * gets its normal answer, a request whose headers came before the signal but whose body comes after it too; the
 * process exits 0 well within SHUTDOWN_TIMEOUT_S and releases its port. A request that cannot finish in time is cut
 * at SHUTDOWN_TIMEOUT_S with exit code 1. With WORKERS=2 (PostgreSQL) the primary passes the signal on and the same
 * holds.
 */

const ADMIN = { username: 'shutdown-admin', email: 'shutdown-admin@example.com', password: 'shutdown-admin-password' };
const CUSTOMER_PASSWORD = 'correct horse battery staple';
/** Generous, so that a server that only gets out through its deadline is told apart from one that drains in time. */
const SHUTDOWN_TIMEOUT_S = 20;
/** "Well within the timeout": draining a few requests takes milliseconds, closing the database under a second. */
const EXIT_WITHIN_MS = 10_000;
const CLIENTS = 6;
/** Load runs at least this long before the signal, and at least this many exchanges are answered by then. */
const WARM_UP_MS = 1000;
const WARM_UP_ANSWERS = 30;
/** How long the slow upload's headers are on the server before the signal, and its body's rest after it. */
const UPLOAD_PAUSE_MS = 300;

const POSTGRES_URL = process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const errorText = (error: unknown) =>
  error instanceof Error ? `${(error as NodeJS.ErrnoException).code ?? error.name}: ${error.message}` : String(error);
const portOf = (base: string) => Number(new URL(base).port);

type Store = { productId: number; customerToken: string };

/** One exchange as a client saw it. */
type Exchange = {
  label: string;
  expected: number;
  /** The whole request had been handed to the kernel (ClientRequest 'finish') before the signal was sent. */
  sentBeforeSignal: boolean;
  /** Sent before the signal and still unanswered when it was sent. */
  inFlightAtSignal: boolean;
  status?: number;
  body?: string;
  error?: string;
};

const describeExchange = (e: Exchange) =>
  `${e.label}: expected ${e.expected}, got ${e.status ?? e.error} ${(e.body ?? '').slice(0, 200)}`;

/** Knows whether the signal has gone out, and which exchanges are unanswered at that moment. */
class SignalClock {
  sent = false;
  at = 0;
  readonly pending = new Set<Exchange>();

  signal(pid: number, signal: NodeJS.Signals = 'SIGTERM'): void {
    for (const exchange of this.pending) exchange.inFlightAtSignal = exchange.sentBeforeSignal;
    this.sent = true;
    this.at = Date.now();
    process.kill(pid, signal);
  }
}

/**
 * Sends one request and records, against the signal, whether it went out before it and how it ended. Never rejects:
 * a connection error is recorded. A body is sent whole, or (`chunked`) as its first half only, the rest being written
 * by `finish()`.
 */
function exchange(
  clock: SignalClock,
  url: string,
  options: {
    label: string;
    expected: number;
    method: string;
    headers?: Record<string, string>;
    body?: unknown;
    agent: http.Agent | false;
    chunked?: boolean;
  },
) {
  const payload = options.body === undefined ? '' : JSON.stringify(options.body);
  const record: Exchange = {
    label: options.label,
    expected: options.expected,
    sentBeforeSignal: false,
    inFlightAtSignal: false,
  };
  clock.pending.add(record);
  const request = http.request(url, {
    method: options.method,
    agent: options.agent,
    headers: {
      ...options.headers,
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(options.chunked ? { 'transfer-encoding': 'chunked' } : {}),
      ...(options.body === undefined || options.chunked
        ? {}
        : { 'content-length': String(Buffer.byteLength(payload)) }),
    },
  });
  const answer = new Promise<Exchange>((resolve) => {
    const settle = (fields: Partial<Exchange>) => {
      Object.assign(record, fields);
      clock.pending.delete(record);
      resolve(record);
    };
    request.setTimeout(60_000, () => request.destroy(new Error('no answer within 60 s')));
    request.once('error', (error) => settle({ error: errorText(error) }));
    request.once('response', (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.once('error', (error) => settle({ error: errorText(error) }));
      response.once('end', () => settle({ status: response.statusCode, body }));
    });
  });
  if (!options.chunked) {
    request.once('finish', () => (record.sentBeforeSignal = !clock.sent));
    request.end(payload);
    return { answer, headersOut: Promise.resolve(), finish: () => {} };
  }
  // Request line, headers and half the body now; 'headersOut' settles once the kernel has them.
  const half = Math.floor(payload.length / 2);
  const headersOut = new Promise<void>((resolve, reject) =>
    request.write(payload.slice(0, half), (error) => {
      if (error) return reject(error);
      record.sentBeforeSignal = !clock.sent;
      resolve();
    }),
  );
  return { answer, headersOut, finish: () => request.end(payload.slice(half)) };
}

/**
 * CLIENTS keep-alive clients (one socket each), each sending one request after another, GET /products and POST
 * /orders with a fresh Idempotency-Key in turn, and nothing new once the signal has gone out.
 */
function startLoad(base: string, clock: SignalClock, store: Store) {
  const exchanges: Exchange[] = [];
  const agents: http.Agent[] = [];
  const client = async (index: number) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(agent);
    for (let n = index; !clock.sent; n++) {
      const { answer } =
        n % 2 === 0
          ? exchange(clock, `${base}/orders`, {
              label: `client ${index}: POST /orders #${n}`,
              expected: 201,
              method: 'POST',
              headers: { authorization: `Bearer ${store.customerToken}`, 'idempotency-key': randomUUID() },
              body: { items: [{ product_id: store.productId, quantity: 1 }] },
              agent,
            })
          : exchange(clock, `${base}/products?limit=20`, {
              label: `client ${index}: GET /products #${n}`,
              expected: 200,
              method: 'GET',
              agent,
            });
      exchanges.push(await answer);
    }
  };
  const running = Array.from({ length: CLIENTS }, (_, index) => client(index));
  return {
    exchanges,
    /** Resolves once at least `count` exchanges are answered and `ms` have passed (throws after 30 s). */
    warmUp: async (ms: number, count: number) => {
      const until = Date.now() + 30_000;
      await pause(ms);
      while (exchanges.length < count) {
        if (Date.now() > until) throw new Error(`only ${exchanges.length} answers in 30 s of load`);
        await pause(50);
      }
    },
    /** Every client's last exchange, once the signal has gone out. */
    done: () => Promise.all(running),
    /** Ends the clients' kept-alive sockets. */
    destroy: () => agents.forEach((agent) => agent.destroy()),
  };
}

async function signIn(base: string, username: string, password: string): Promise<string> {
  const answer = await httpRequest(`${base}/auth/login`, { method: 'POST', body: { username, password } });
  if (answer.status !== 200) throw new Error(`login as ${username}: ${answer.status} ${answer.body}`);
  return (JSON.parse(answer.body) as { access_token: string }).access_token;
}

/** A product with plenty of stock, and a signed-in customer to order it. */
async function prepareStore(base: string): Promise<Store> {
  const adminToken = await signIn(base, ADMIN.username, ADMIN.password);
  const tag = randomBytes(4).toString('hex');
  const product = await httpRequest(`${base}/products`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}` },
    body: { sku: `SHUT-${tag}`, name: 'Drain plug', price: 250, stock: 1_000_000 },
  });
  if (product.status !== 201) throw new Error(`POST /products: ${product.status} ${product.body}`);
  const username = `shutdown_${tag}`;
  const customer = await httpRequest(`${base}/customers`, {
    method: 'POST',
    body: {
      username,
      password: CUSTOMER_PASSWORD,
      email_id: `${username}@example.com`,
      first_name: 'Grace',
      last_name: 'Hopper',
    },
  });
  if (customer.status !== 201) throw new Error(`POST /customers: ${customer.status} ${customer.body}`);
  return {
    productId: (JSON.parse(product.body) as { id: number }).id,
    customerToken: await signIn(base, username, CUSTOMER_PASSWORD),
  };
}

/** The process's exit, or undefined if it is still running after `ms`. */
async function exitWithin(server: ServerProcess, ms: number): Promise<Exit | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  try {
    return await Promise.race([server.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The scenario both the single process and the cluster go through: load, a slow upload whose headers are out,
 * SIGTERM, the upload's body finished after the signal; then every exchange sent before the signal must have had
 * its normal answer, the process must have exited 0 well within the timeout, and the port must refuse connections.
 */
async function shutDownUnderLoad(server: ServerProcess, base: string): Promise<void> {
  const tail = () => server.output().slice(-6000);
  const store = await prepareStore(base);
  const clock = new SignalClock();
  const load = startLoad(base, clock, store);
  const uploadAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    await load.warmUp(WARM_UP_MS, WARM_UP_ANSWERS);
    const upload = exchange(clock, `${base}/orders`, {
      label: 'slow upload: POST /orders, body finished after the signal',
      expected: 201,
      method: 'POST',
      headers: { authorization: `Bearer ${store.customerToken}`, 'idempotency-key': randomUUID() },
      body: { items: [{ product_id: store.productId, quantity: 2 }] },
      // Kept alive, like a browser's or a load balancer's connection: the server must not wait on it once answered.
      agent: uploadAgent,
      chunked: true,
    });
    await upload.headersOut;
    await pause(UPLOAD_PAUSE_MS);

    clock.signal(server.pid);
    await pause(UPLOAD_PAUSE_MS);
    upload.finish();
    const slow = await upload.answer;
    await load.done();
    const exit = await exitWithin(server, SHUTDOWN_TIMEOUT_S * 1000 + 10_000);

    const before = load.exchanges.filter((e) => e.sentBeforeSignal);
    const inFlight = before.filter((e) => e.inFlightAtSignal).length;
    const failures = [slow, ...before].filter((e) => e.status !== e.expected);
    expect(
      failures.map(describeExchange),
      `${before.length} exchanges sent before the signal, ${inFlight} of them (and the slow upload) in flight at it:\n${tail()}`,
    ).toEqual([]);
    expect(slow.inFlightAtSignal).toBe(true);
    expect(before.length).toBeGreaterThanOrEqual(WARM_UP_ANSWERS);
    expect(before.filter((e) => e.label.includes('POST /orders')).length).toBeGreaterThan(0);
    expect(before.filter((e) => e.label.includes('GET /products')).length).toBeGreaterThan(0);

    expect(exit, `still running ${SHUTDOWN_TIMEOUT_S + 10} s after SIGTERM:\n${tail()}`).toBeDefined();
    expect(exit!.code, tail()).toBe(0);
    expect(exit!.at - clock.at, tail()).toBeLessThan(EXIT_WITHIN_MS);
    expect(await refusesConnections(portOf(base))).toBe(true);
  } finally {
    load.destroy();
    uploadAgent.destroy();
  }
}

const adminEnv = { ADMIN_USERNAME: ADMIN.username, ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password };

/** Whether the shared PostgreSQL server answers; in CI it must, and there a missing one fails instead of skipping. */
async function postgresAnswers(): Promise<boolean> {
  if (process.env.CI || process.env.TEST_DATABASE_URL) return true;
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}
const postgresAvailable = await postgresAnswers();

/** A started server and the address to reach it at. */
type Started = { server: ServerProcess; base: string };

/** Starts a cluster and waits until both workers listen (the primary hands connections only to those that do). */
async function startCluster(env: Record<string, string>): Promise<Started & { workers: number[] }> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = await startServer(
    { ...env, WORKERS: '2', PORT: String(port), HOST: '127.0.0.1' },
    { listening: /"msg":"cluster started"/, timeoutMs: 60_000 },
  );
  const workers = () =>
    server
      .logs()
      .filter((line) => String(line.msg).startsWith('Server listening at'))
      .map((line) => line.pid as number);
  const until = Date.now() + 60_000;
  while (workers().length < 2) {
    if (Date.now() > until) {
      await server.kill();
      throw new Error(`the workers did not listen within 60 s:\n${server.output()}`);
    }
    await pause(100);
  }
  await waitUntilOk(`${base}/health/ready`, 30_000);
  return { server, base, workers: workers() };
}

describe('graceful shutdown: SIGTERM to the real server process', () => {
  /** A throw-away database on the shared PostgreSQL server, when there is one. */
  const databaseName = `test_shutdown_${randomBytes(6).toString('hex')}`;
  let databaseCreated = false;
  const starting: Promise<Started>[] = [];
  let single: Promise<Started>;
  let impatient: Promise<Started>;
  let cluster: Promise<Started & { workers: number[] }> | undefined;

  /** Kept so that a start that fails before its test awaits it is not an unhandled rejection. */
  const track = <T extends Started>(start: Promise<T>): Promise<T> => {
    starting.push(start);
    start.catch(() => {});
    return start;
  };

  // The servers start together (starting is most of these tests' time, and mostly waiting for the CPU on a busy
  // machine); each test then has its server to itself, idle until it puts it under load.
  beforeAll(async () => {
    let postgresDatabaseUrl: string | undefined;
    if (postgresAvailable) {
      await adminQuery(POSTGRES_URL, `CREATE DATABASE ${databaseName}`);
      databaseCreated = true;
      const url = new URL(POSTGRES_URL);
      url.pathname = `/${databaseName}`;
      postgresDatabaseUrl = url.toString();
    }
    const common = { HOST: '127.0.0.1', LOG_LEVEL: 'info' };
    single = track(
      startServer({
        ...common,
        ...adminEnv,
        DATABASE_URL: 'memory://',
        PORT: '0',
        SHUTDOWN_TIMEOUT_S: String(SHUTDOWN_TIMEOUT_S),
      }).then((server) => ({ server, base: server.url })),
    );
    impatient = track(
      startServer({
        ...common,
        // Nothing here needs the database; PostgreSQL, when there is one, only starts faster than PGlite.
        DATABASE_URL: postgresDatabaseUrl ?? 'memory://',
        PORT: '0',
        SHUTDOWN_TIMEOUT_S: '1',
      }).then((server) => ({ server, base: server.url })),
    );
    if (postgresDatabaseUrl) {
      cluster = track(
        startCluster({
          ...common,
          ...adminEnv,
          DATABASE_URL: postgresDatabaseUrl,
          SHUTDOWN_TIMEOUT_S: String(SHUTDOWN_TIMEOUT_S),
        }),
      );
    }
  }, 30_000);

  afterAll(async () => {
    const started = await Promise.allSettled(starting);
    for (const result of started) if (result.status === 'fulfilled') await result.value.server.kill();
    if (databaseCreated) await adminQuery(POSTGRES_URL, `DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
  }, 30_000);

  it('single process on PGlite under load: all sent before the signal answered normally; exit 0; port released', async () => {
    const { server, base } = await single;
    await shutDownUnderLoad(server, base);
    expect(server.logs().some((line) => line.msg === 'shut down cleanly')).toBe(true);
  }, 120_000);

  it('SHUTDOWN_TIMEOUT_S=1 and a request that cannot finish: it is cut and the process exits 1 after about 1 s', async () => {
    const { server, base } = await impatient;
    const clock = new SignalClock();
    const tag = randomBytes(4).toString('hex');
    // A sign-up (open to anyone) whose body never ends: nothing can answer it.
    const stuck = exchange(clock, `${base}/customers`, {
      label: 'POST /customers, body never finished',
      expected: 201,
      method: 'POST',
      body: {
        username: `stuck_${tag}`,
        password: CUSTOMER_PASSWORD,
        email_id: `stuck_${tag}@example.com`,
        first_name: 'Never',
        last_name: 'Done',
      },
      agent: false,
      chunked: true,
    });
    await stuck.headersOut;
    await pause(UPLOAD_PAUSE_MS);

    clock.signal(server.pid);
    const exit = await exitWithin(server, 15_000);
    expect(exit, `still running 15 s after SIGTERM with SHUTDOWN_TIMEOUT_S=1:\n${server.output()}`).toBeDefined();
    expect(exit!.code, server.output()).toBe(1);
    const took = exit!.at - clock.at;
    expect(took).toBeGreaterThanOrEqual(900);
    expect(took).toBeLessThan(6000);
    // Cut, not answered.
    const cut = await stuck.answer;
    expect(cut.status, describeExchange(cut)).toBeUndefined();
    expect(server.logs().some((line) => line.level === 50 && /SHUTDOWN_TIMEOUT_S/.test(String(line.msg)))).toBe(true);
  }, 90_000);

  it.runIf(postgresAvailable)(
    'WORKERS=2 on PostgreSQL under load: all sent before the signal answered normally; workers and primary exit 0',
    async () => {
      const { server, base, workers } = await cluster!;
      await shutDownUnderLoad(server, base);

      const running = workers.filter((pid) => {
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      });
      expect(running, 'workers still running after the primary exited').toEqual([]);
      const clean = server.logs().filter((line) => line.msg === 'shut down cleanly');
      expect(clean.map((line) => line.pid).sort()).toEqual([...workers].sort());
    },
    90_000,
  );
});
