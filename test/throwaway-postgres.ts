import { execFile, execFileSync } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A PostgreSQL server of its own for a test that must stop and start its database (an outage), run with the
 * machine's PostgreSQL binaries: initdb into a fresh temporary folder, trust authentication, user postgres,
 * listening on 127.0.0.1 only on a free port, its unix socket inside that folder. It never touches another server.
 */
export type ThrowawayPostgres = {
  /** postgres://postgres@127.0.0.1:PORT/postgres */
  readonly url: string;
  readonly port: number;
  /** The temporary folder: data/ (the cluster), server.log, and the unix socket. */
  readonly dir: string;
  /** Whether the server is running, as far as this harness knows. */
  readonly running: boolean;
  /** Starts the stopped server again, on the same port; resolves once it accepts connections. */
  start(): Promise<void>;
  /** Fast shutdown (open sessions are cut, as in a restart or failover); resolves once the server is gone. */
  stop(): Promise<void>;
  /** Stops the server if it runs and removes its folder. */
  destroy(): Promise<void>;
  /** The end of the server's log, for a failure message. */
  logTail(lines?: number): string;
};

const VERSION_ROOT = '/usr/lib/postgresql';

/** The bin/ folder of the newest PostgreSQL under /usr/lib/postgresql that has initdb and pg_ctl, if any. */
export function findPostgresBinDir(): string | undefined {
  if (!existsSync(VERSION_ROOT)) return undefined;
  const versions = readdirSync(VERSION_ROOT)
    .filter((name) => /^\d+(\.\d+)?$/.test(name))
    .sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const bin = join(VERSION_ROOT, version, 'bin');
    if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl'))) return bin;
  }
  return undefined;
}

const canListen = (port: number) =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (bound ? resolve(bound) : reject(new Error('no port'))));
    });
  });

/**
 * A port nobody listens on right now, on 127.0.0.1. Taken below the kernel's range for outgoing connections
 * (32768 and up on Linux), so that no client socket takes it while the server is stopped and it is free.
 */
async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (await canListen(port).then(Boolean, () => false)) return port;
  }
  return canListen(0);
}

// PG* variables of the caller (PGPORT, PGHOST, PGDATA…) must not steer these commands towards another server.
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('PG')) env[name] = value;
  return { ...env, LC_ALL: 'C', LANG: 'C' };
}

export async function startThrowawayPostgres(): Promise<ThrowawayPostgres> {
  const bin = findPostgresBinDir();
  if (!bin) throw new Error(`no PostgreSQL binaries (initdb, pg_ctl) found under ${VERSION_ROOT}/*/bin`);

  // initdb and postgres refuse to run as root: then they run as the postgres user, who must own the folder.
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'throwaway-pg-'));
  if (asRoot) {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, id('-u'), id('-g'));
  }
  const data = join(dir, 'data');
  const logFile = join(dir, 'server.log');

  const run = (tool: string, args: string[], timeoutMs: number) =>
    new Promise<string>((resolve, reject) => {
      const [command, argv] = asRoot
        ? ['runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]]
        : [join(bin, tool), args];
      // cwd: the folder is readable by the postgres user, the caller's working directory may not be.
      execFile(command, argv, { cwd: dir, env: cleanEnv(), timeout: timeoutMs }, (error, stdout, stderr) => {
        if (error) reject(new Error(`${tool} ${args.join(' ')} failed: ${error.message}\n${stdout}${stderr}`));
        else resolve(stdout);
      });
    });

  let running = false;
  const logTail = (lines = 30) => {
    try {
      return readFileSync(logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no server log)';
    }
  };
  const pgCtlStart = () => run('pg_ctl', ['start', '-D', data, '-l', logFile, '-w', '-t', '60'], 90_000);

  let port = 0;
  let cleanUpAtExit: (() => void) | undefined;
  try {
    await run(
      'initdb',
      ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'],
      120_000,
    );
    // The last setting of a name in postgresql.conf wins; a port found taken between the probe and the start is
    // replaced by another one.
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      appendFileSync(
        join(data, 'postgresql.conf'),
        [
          '',
          `port = ${port}`,
          "listen_addresses = '127.0.0.1'",
          `unix_socket_directories = '${dir}'`,
          'fsync = off',
          'full_page_writes = off',
          'max_connections = 50',
          'shared_buffers = 32MB',
          '',
        ].join('\n'),
      );
      try {
        await pgCtlStart();
        running = true;
        break;
      } catch (error) {
        if (attempt >= 3 || !/already in use|could not bind|could not create listen/i.test(logTail(10))) throw error;
      }
    }
    // Should the test process end without destroy() (a crash, a timeout), the server must not outlive it.
    cleanUpAtExit = () => {
      try {
        execFileSync(
          asRoot ? 'runuser' : join(bin, 'pg_ctl'),
          [
            ...(asRoot ? ['-u', 'postgres', '--', join(bin, 'pg_ctl')] : []),
            ...['stop', '-D', data, '-m', 'immediate', '-w', '-t', '10'],
          ],
          { cwd: dir, env: cleanEnv(), stdio: 'ignore' },
        );
      } catch {
        // not running
      }
      rmSync(dir, { recursive: true, force: true });
    };
    process.once('exit', cleanUpAtExit);
  } catch (error) {
    const detail = logTail();
    await run('pg_ctl', ['stop', '-D', data, '-m', 'immediate', '-w'], 30_000).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`could not start a throw-away PostgreSQL: ${(error as Error).message}\n${detail}`);
  }

  const stop = async () => {
    await run('pg_ctl', ['stop', '-D', data, '-m', 'fast', '-w', '-t', '60'], 90_000);
    running = false;
  };

  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dir,
    get running() {
      return running;
    },
    async start() {
      try {
        await pgCtlStart();
      } catch (error) {
        throw new Error(`${(error as Error).message}\n${logTail()}`);
      }
      running = true;
    },
    stop,
    async destroy() {
      // Immediate: the data is thrown away, so no shutdown checkpoint is worth waiting for on a busy machine.
      if (running) {
        await run('pg_ctl', ['stop', '-D', data, '-m', 'immediate', '-w', '-t', '30'], 60_000).catch(() => undefined);
        running = false;
      }
      if (cleanUpAtExit) process.removeListener('exit', cleanUpAtExit);
      rmSync(dir, { recursive: true, force: true });
    },
    logTail,
  };
}
