import cluster from 'node:cluster';
import { pino } from 'pino';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createDatabase } from './db/client.js';
import { runMigrations } from './db/migrate.js';

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

/** One server process: the whole app, listening (in a cluster worker, on the port the primary shares). */
async function runServer(config: Config): Promise<void> {
  // Imported here, not at the top: a cluster primary only forks workers and need not carry the app in memory.
  const { buildApp } = await import('./app.js');
  const app = await buildApp(config, { migrate: !cluster.isWorker });
  const close = async (signal: string) => {
    app.log.info({ signal }, 'shutting down');
    await app.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void close('SIGTERM'));
  process.once('SIGINT', () => void close('SIGINT'));
  await app.listen({ port: config.port, host: config.host });
}

/** WORKERS=N: migrate once, then fork N workers that share the port; replace any that dies unexpectedly. */
async function runPrimary(config: Config): Promise<void> {
  const log = pino({ level: config.logLevel });
  const database = await createDatabase(config);
  try {
    await runMigrations(database);
  } finally {
    await database.close();
  }

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    stopping = true;
    log.info({ signal }, 'stopping workers');
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal);
  };
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    log.error({ pid: worker.process.pid, code, signal }, 'worker died; starting another');
    setTimeout(() => cluster.fork(), 500);
  });
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  for (let i = 0; i < config.workers; i++) cluster.fork();
  log.info({ workers: config.workers, port: config.port }, 'cluster started');
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
