import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

/**
 * The real server (src/server.ts) run as a child process, for tests of what only a process can show: signals, exit
 * codes, a port that is released. It is started as `node --import tsx src/server.ts` so that the PID a test signals
 * is the server's own node process, not a wrapper in front of it.
 */

export const ROOT = fileURLToPath(new URL('../', import.meta.url));

export type Exit = { code: number | null; signal: NodeJS.Signals | null; at: number };

export type ServerProcess = {
  pid: number;
  child: ChildProcess;
  /** Everything the process wrote so far, stdout and stderr interleaved. */
  output: () => string;
  /** The JSON log lines written so far (other lines, such as deprecation warnings, are left out). */
  logs: () => Record<string, unknown>[];
  /** Settles when the process has exited; `at` is Date.now() at that moment. */
  exited: Promise<Exit>;
  /** Its process group is killed with SIGKILL (a cluster's workers included); for clean-up after a test. */
  kill: () => Promise<void>;
};

/**
 * Starts the server with exactly `env` on top of PATH and HOME (no DATABASE_URL, PORT or other setting of the
 * test run's environment leaks in) and waits until it logs that it listens: `listening` picks the line.
 */
export async function startServer(
  env: Record<string, string>,
  options: { listening?: RegExp; timeoutMs?: number } = {},
): Promise<ServerProcess & { url: string }> {
  const listening = options.listening ?? /Server listening at (http:\/\/[\d.]+:\d+)/;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'test', ...env },
    // Its own process group, so that clean-up can end a cluster primary and its workers together.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  // 'close', not 'exit': by then stdout and stderr have been read to their end.
  const exited = new Promise<Exit>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  let gone = false;
  void exited.then(() => (gone = true));

  const server: ServerProcess = {
    pid: child.pid!,
    child,
    output: () => output,
    logs: () => parseLogs(output),
    exited,
    kill: async () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
      if (!gone) await exited;
    },
  };

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      void server.kill();
      reject(new Error(`the server did not start within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const check = () => {
      const match = listening.exec(output);
      if (!match) return;
      clearTimeout(timer);
      child.stdout.off('data', check);
      child.stderr.off('data', check);
      resolve(match[1] ?? '');
    };
    child.stdout.on('data', check);
    child.stderr.on('data', check);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code ?? signal}) before listening:\n${output}`));
    });
  });
  return { ...server, url };
}

export function parseLogs(output: string): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // A line cut short at exit, or not JSON after all.
    }
  }
  return lines;
}

/** A port nothing listens on right now: bound on port 0, read, released. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Whether a TCP connection to the port is refused (nothing listens there any more). */
export async function refusesConnections(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.setTimeout(2000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

export type Answer = { status: number; headers: http.IncomingHttpHeaders; body: string };

/** One HTTP exchange over node:http; rejects on a connection error (a reset, a refused connection). */
export async function httpRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: unknown; agent?: http.Agent } = {},
): Promise<Answer> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const request = http.request(url, {
      method: options.method ?? 'GET',
      agent: options.agent,
      headers: {
        ...(payload === undefined
          ? {}
          : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) }),
        ...options.headers,
      },
    });
    request.once('error', reject);
    request.once('response', (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.once('error', reject);
      response.once('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
    });
    request.end(payload);
  });
}

/** Polls GET `url` until it answers 200, or fails after `timeoutMs`. */
export async function waitUntilOk(url: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const answer = await httpRequest(url, { agent: new http.Agent({ keepAlive: false }) });
      if (answer.status === 200) return;
      last = `${answer.status} ${answer.body}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() >= until) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms (last: ${last})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
