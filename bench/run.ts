// npm run bench: a fresh database with a realistic store, the app (1 and 2 workers) and the floor server driven
// through the same scenarios from a separate load process; results to bench/results/ and docs/performance.md.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { hashPassword } from '../src/lib/passwords.js';
import { createBenchDatabase, dropBenchDatabase, serverVersion } from './database.js';
import { writePerformanceDoc } from './doc.js';
import { prepareFixture } from './fixture.js';
import { describeMachine } from './machine.js';
import { measure } from './measure.js';
import { parseOptions, type Options } from './options.js';
import { summariseProfiles } from './profile.js';
import { addRatios, goalsList, judge, markdownTable, pageLatencyTable, SERVERS } from './report.js';
import type { PageLatency, Report, Row, ServerKey } from './report.js';
import { SCENARIO_NAMES } from './scenarios.js';
import { seed, sizesFor } from './seed.js';
import { selfCheck } from './self-check.js';
import { processTree, rssMb, startScriptFlags, startServer, stopServer, type Server } from './servers.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const results = fileURLToPath(new URL('./results/', import.meta.url));
// Both servers run as built JavaScript, the way `npm start` runs the app (npm run build first).
const APP_ENTRY = 'dist/src/server.js';
const FLOOR_ENTRY = 'dist/bench/floor/server.js';
const TOKENS = 2_000;

const started = Date.now();
const round2 = (n: number) => Math.round(n * 100) / 100;
const log = (message: string) =>
  console.log(`[bench ${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s] ${message}`);

const running = new Set<Server>();
const databases = new Set<string>();

async function start(name: string, entry: string, env: Record<string, string>, flags: string[] = []) {
  const server = await startServer(name, entry, env, flags);
  running.add(server);
  return server;
}
async function stop(server: Server) {
  await stopServer(server);
  running.delete(server);
}

/** A database loaded at `scale`, with tokens and the id sets of the scenarios. */
async function prepare(options: Options, scale: number, tokens: number) {
  const name = `bench_${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}_${process.pid}_${scale}`.replace(
    '.',
    '_',
  );
  databases.add(name);
  const url = await createBenchDatabase(options.adminUrl, name);
  log(`created database ${name} and applied the app's migrations`);
  const sizes = sizesFor(scale);
  const t = Date.now();
  await seed(url, sizes, await hashPassword('bench-password'));
  log(
    `loaded ${sizes.products} products, ${sizes.customers} customers, ${sizes.orders} orders in ${((Date.now() - t) / 1000).toFixed(1)} s (VACUUM ANALYZE done)`,
  );
  const fixture = await prepareFixture(url, tokens);
  const fixturePath = `${results}fixture-${name}.json`;
  writeFileSync(fixturePath, JSON.stringify(fixture));
  log(`signed in ${fixture.customers.length} customers; ${fixture.orders.length} of their orders to read`);
  return { name, url, sizes, fixture, fixturePath };
}

/** Whether the app really forked workers for WORKERS=2 (a server that ignores the variable runs alone). */
async function workersRunning(server: Server): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const workers = processTree(server.child.pid!).filter(
      (p) => p.pid !== server.child.pid && p.command.includes(APP_ENTRY),
    );
    if (workers.length >= 2) return workers.length;
    await sleep(100);
  }
  return processTree(server.child.pid!).filter((p) => p.pid !== server.child.pid && p.command.includes(APP_ENTRY))
    .length;
}

async function pageLatency(
  server: Server,
  db: { name: string; fixturePath: string },
  scale: number,
  products: number,
): Promise<PageLatency> {
  const { result, otherCpu } = await measure(server, db.name, {
    scenario: 'product-pages',
    fixturePath: db.fixturePath,
    connections: 1,
    warmup: 1,
    duration: 5,
  });
  const { requests, p50, p99, mean } = result;
  return { scale, products, requests, p50, p99, mean, otherCpu };
}

async function main(options: Options, argv: string[]): Promise<void> {
  mkdirSync(results, { recursive: true });
  log('building dist/ (npm run build)');
  execFileSync('npm', ['run', '-s', 'build'], { cwd: root, stdio: 'inherit' });
  const machine = describeMachine(await serverVersion(options.adminUrl));
  const loadAtStart = loadavg();
  if (loadAtStart[0]! > 1)
    log(`warning: load average ${loadAtStart[0]!.toFixed(1)} before starting: something else is busy`);
  log(
    `${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memoryGb} GB, Node ${machine.node}, PostgreSQL ${machine.postgres}`,
  );
  const db = await prepare(options, options.scale, TOKENS);
  const scenarios = SCENARIO_NAMES.filter((s) => !options.only || options.only.includes(s));
  const job = {
    fixturePath: db.fixturePath,
    connections: options.connections,
    warmup: options.warmup,
    duration: options.duration,
  };
  const rows: Row[] = [];
  const processes: Report['processes'] = {};
  const idleRss: Report['idleRssMb'] = {};
  const latencies: PageLatency[] = [];
  const profileDir = `${results}profiles`;
  if (options.cpuProf) rmSync(profileDir, { recursive: true, force: true });

  const appFlags = startScriptFlags(`${root}package.json`);
  log(`the app runs as npm start runs it: node ${[...appFlags, APP_ENTRY].join(' ')}`);
  const plans: { key: ServerKey; entry: string; env: Record<string, string>; flags: string[] }[] = [
    {
      key: 'app1',
      entry: APP_ENTRY,
      env: {},
      flags: [...appFlags, ...(options.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])],
    },
    { key: 'app2', entry: APP_ENTRY, env: { WORKERS: '2' }, flags: appFlags },
    { key: 'floor', entry: FLOOR_ENTRY, env: {}, flags: [] },
  ];
  // All three run side by side, idle but for the one being measured, so that each scenario measures them back to
  // back: a disturbance from outside the benchmark then hits one scenario of all servers, not all of one server.
  const servers = new Map<ServerKey, Server>();
  const skip = (key: ServerKey, reason: string) => {
    log(`${SERVERS[key]}: ${reason}`);
    rows.push(...scenarios.map((scenario) => ({ server: key, scenario, skipped: reason })));
  };
  for (const plan of plans) {
    let server: Server;
    try {
      server = await start(
        SERVERS[plan.key],
        plan.entry,
        { DATABASE_URL: db.url, WORKERS: '1', ...plan.env },
        plan.flags,
      );
    } catch (error) {
      if (plan.key !== 'app2') throw error;
      skip(plan.key, `not measured: ${String((error as Error).message).split('\n')[0]}`);
      continue;
    }
    await sleep(1000);
    idleRss[plan.key] = rssMb(server.child.pid!);
    log(`${SERVERS[plan.key]} answers on ${server.url} (pid ${server.child.pid}, RSS at rest ${idleRss[plan.key]} MB)`);
    if (plan.key === 'app2' && (await workersRunning(server)) < 2) {
      skip(plan.key, 'not measured: WORKERS unsupported');
      await stop(server);
      continue;
    }
    servers.set(plan.key, server);
  }
  await selfCheck(servers.get('app1')!.url, servers.get('floor')!.url, db.fixture, db.url);
  log('self-check passed: the floor answers byte for byte what the app answers, and writes the same rows');

  for (const scenario of scenarios) {
    for (const [key, server] of servers) {
      const {
        result,
        peakRssMb,
        peakProcessRssMb,
        processes: seen,
        otherCpu,
        cpuMs,
      } = await measure(server, db.name, {
        ...job,
        scenario,
      });
      rows.push({ server: key, scenario, result, peakRssMb, peakProcessRssMb, otherCpu, cpuMs });
      processes[key] = [...new Set([...(processes[key] ?? []), ...seen])];
      log(
        `${SERVERS[key].padEnd(15)} ${scenario.padEnd(13)} ${result.reqPerSec.toFixed(0).padStart(6)} req/s  p50 ${result.p50} ms  p99 ${result.p99} ms  max ${result.max} ms  errors ${result.errors}  non-2xx ${result.non2xx}  peak RSS ${peakRssMb} MB  CPU/req ${cpuMs.server}+${cpuMs.database} ms  other CPU ${otherCpu}`,
      );
    }
  }
  latencies.push(await pageLatency(servers.get('app1')!, db, options.scale, db.sizes.products));
  log(`page latency at --scale ${options.scale}: p50 ${latencies[0]!.p50} ms, p99 ${latencies[0]!.p99} ms`);
  for (const server of servers.values()) await stop(server);
  const order = (r: Row) => SCENARIO_NAMES.indexOf(r.scenario) * 10 + Object.keys(SERVERS).indexOf(r.server);
  rows.sort((a, b) => order(a) - order(b));

  // Optional and last: a failure here costs only its own row, not the results above.
  if (options.scaleCheck)
    await scaleCheck(options, latencies).catch((e: unknown) => log(`scale check failed: ${String(e)}`));

  addRatios(rows);
  const { adminUrl: _adminUrl, ...shown } = options;
  const report: Report = {
    startedAt: new Date(started).toISOString(),
    seconds: Math.round((Date.now() - started) / 1000),
    command: `${process.env.BENCH_DATABASE_URL ? `BENCH_DATABASE_URL=${process.env.BENCH_DATABASE_URL} ` : ''}npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    machine,
    options: shown,
    sizes: db.sizes,
    rows,
    processes,
    idleRssMb: idleRss,
    loadAverage: { start: loadAtStart.map(round2), end: loadavg().map(round2) },
    pageLatency: latencies,
    goals: judge(rows),
    profile: options.cpuProf ? summariseProfiles(profileDir) : [],
  };
  await finishDatabase(options, db.name);
  writeFileSync(`${results}latest.json`, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\n${markdownTable(rows)}\n\n${pageLatencyTable(latencies)}\n\n${goalsList(report.goals)}\n`);
  if (report.profile.length > 0) {
    writeFileSync(`${results}profile.txt`, `${report.profile.join('\n')}\n`);
    console.log(
      `CPU profile of the app (1 worker), also in bench/results/profile.txt:\n${report.profile.join('\n')}\n`,
    );
  }
  // Only a full, unprofiled run speaks for the app; a partial or profiled one leaves the page as it was.
  if (options.only || options.cpuProf) return log('wrote bench/results/latest.json (docs/performance.md left alone)');
  await writePerformanceDoc(`${root}docs/performance.md`, report);
  log('wrote bench/results/latest.json and docs/performance.md');
}

/** The same page latency on a catalogue (and everything else) ten times larger, in a second database. */
async function scaleCheck(options: Options, latencies: PageLatency[]): Promise<void> {
  const bigScale = Math.round(options.scale * 10_000) / 1000;
  const big = await prepare(options, bigScale, 10);
  const flags = startScriptFlags(`${root}package.json`);
  const server = await start('app (scale check)', APP_ENTRY, { DATABASE_URL: big.url, WORKERS: '1' }, flags);
  const latency = await pageLatency(server, big, bigScale, big.sizes.products);
  latencies.push(latency);
  log(`page latency at --scale ${bigScale}: p50 ${latency.p50} ms, p99 ${latency.p99} ms`);
  await stop(server);
  await finishDatabase(options, big.name);
}

async function finishDatabase(options: Options, name: string): Promise<void> {
  databases.delete(name);
  rmSync(`${results}fixture-${name}.json`, { force: true });
  if (options.keep) return log(`kept database ${name} (--keep)`);
  await dropBenchDatabase(options.adminUrl, name);
  log(`dropped database ${name}`);
}

async function cleanUp(options: Options): Promise<void> {
  for (const server of [...running]) await stop(server).catch(() => {});
  for (const name of [...databases]) await finishDatabase(options, name).catch(() => {});
}

const argv = process.argv.slice(2);
const options = parseOptions(argv, process.env);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping servers and dropping the bench database`);
    void cleanUp(options).finally(() => process.exit(130));
  });
}
main(options, argv)
  .catch(async (error: unknown) => {
    console.error('bench failed:', error instanceof Error ? error.message : error);
    process.exitCode = 1;
  })
  .finally(() => cleanUp(options));
