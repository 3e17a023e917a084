import cluster from 'node:cluster';
import { pino, type Logger } from 'pino';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createDatabase } from './db/client.js';
import { runMigrations } from './db/migrate.js';
import { drainConnections, trackUnanswered } from './http/drain.js';

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`configuration error: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
}

/**
 * One server process: the whole app, listening (in a cluster worker, on the port the primary shares).
 * On SIGTERM or SIGINT it stops accepting connections at once, lets the requests it has received finish, closes
 * its database pool and Redis connections and exits 0; whatever still runs after SHUTDOWN_TIMEOUT_S is cut, exit 1.
 */
async function runServer(config: Config): Promise<void> {
  // Imported here, not at the top: a cluster primary only forks workers and need not carry the app in memory.
  const { buildApp } = await import('./app.js');
  const app = await buildApp(config, { migrate: !cluster.isWorker });
  const unanswered = trackUnanswered(app.server);
  let stopping = false;
  const shutDown = (signal: NodeJS.Signals) => {
    // A second signal changes nothing (Ctrl-C reaches a cluster's workers both from the terminal and the primary).
    if (stopping) return;
    stopping = true;
    app.log.info({ signal, timeout_s: config.shutdownTimeoutSeconds }, 'shutting down: finishing requests in flight');
    const deadline = setTimeout(() => {
      app.log.error('requests still running after SHUTDOWN_TIMEOUT_S; cutting them');
      app.server.closeAllConnections();
      process.exit(1);
    }, config.shutdownTimeoutSeconds * 1000);
    drainConnections(app.server, unanswered)
      .then(() => app.close())
      .then(
        () => {
          clearTimeout(deadline);
          app.log.info('shut down cleanly');
          process.exit(0);
        },
        (error: unknown) => {
          app.log.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  for (const signal of SIGNALS) process.on(signal, shutDown);
  await app.listen({ port: config.port, host: config.host });
}

/**
 * WORKERS=N: migrate once, then fork N workers that share the port and replace any that dies unexpectedly. A
 * signal is passed on to every worker; the primary exits when all have, 0 only if every one shut down cleanly.
 */
async function runPrimary(config: Config): Promise<void> {
  const log = pino({ level: config.logLevel });
  const database = await createDatabase(config);
  try {
    await runMigrations(database);
  } finally {
    await database.close();
  }
  const { answerClusterMetrics } = await import('./modules/metrics/cluster-metrics.js');
  answerClusterMetrics();

  let stopping = false;
  let failed = false;
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (code !== 0) failed = true;
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(failed ? 1 : 0);
      return;
    }
    log.error({ pid: worker.process.pid, code, signal }, 'worker died; starting another');
    setTimeout(() => cluster.fork(), 500);
  });
  for (const signal of SIGNALS) process.on(signal, (received) => stopWorkers(received));

  function stopWorkers(signal: NodeJS.Signals) {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping workers');
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal);
    // Each worker keeps its own SHUTDOWN_TIMEOUT_S; this only guards against one that hangs past it.
    setTimeout(() => killStragglers(log), (config.shutdownTimeoutSeconds + 5) * 1000).unref();
  }
  for (let i = 0; i < config.workers; i++) cluster.fork();
  log.info({ workers: config.workers, port: config.port }, 'cluster started');
}

function killStragglers(log: Logger): void {
  log.error('workers still running past SHUTDOWN_TIMEOUT_S; killing them');
  for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGKILL');
  process.exit(1);
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  if (config.workers > 1 && cluster.isPrimary) await runPrimary(config);
  else await runServer(config);
}

main().catch((error: unknown) => {
  console.error('failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
