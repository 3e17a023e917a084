import { readdirSync, readFileSync } from 'node:fs';
import { processTree } from './servers.js';

// Linux counts CPU time in clock ticks of 1/100 s on every platform Node runs on.
const TICKS_PER_SECOND = 100;

function busyTicks(): number {
  const [, user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]!
    .split(/\s+/)
    .map(Number);
  return user! + nice! + system! + irq! + softirq! + steal!;
}

function ticksOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime + stime
  } catch {
    return 0;
  }
}

/** PostgreSQL's own helpers and the backends of our database; other databases' backends are someone else's. */
function postgresOfOurs(database: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (!command.startsWith('postgres')) continue;
      const backend = /\d+\.\d+\.\d+\.\d+\(\d+\)|\[local\]/.test(command);
      if (!backend || command.includes(` ${database} `)) pids.push(Number(entry));
    } catch {
      // gone
    }
  }
  return pids;
}

export type CpuUse = {
  /** Cores, on average, taken by processes outside the benchmark. */
  otherCpu: number;
  /** CPU seconds of the server's process tree, and of its database backends. */
  serverSeconds: number;
  databaseSeconds: number;
};

/**
 * Measures, over a stretch of time, where the CPU went: to the server under test, to its database backends, and
 * to processes that are not part of the benchmark at all (everything but those, the load generator, which
 * reports its own use, and this process). On a shared machine the last says which rows were disturbed; the
 * first two give a CPU cost per request that other work hardly changes.
 */
export function watchCpu(serverPid: number, database: string) {
  const server = () => processTree(serverPid).map((p) => p.pid);
  const ticks = (pids: number[], before?: Map<number, number>) =>
    pids.reduce((sum, pid) => sum + Math.max(0, ticksOf(pid) - (before?.get(pid) ?? 0)), 0);
  const snapshot = (pids: number[]) => new Map(pids.map((pid) => [pid, ticksOf(pid)]));
  const started = Date.now();
  const busyBefore = busyTicks();
  const before = {
    self: ticksOf(process.pid),
    server: snapshot(server()),
    database: snapshot(postgresOfOurs(database)),
  };
  return (loadGeneratorCpuSeconds: number): CpuUse => {
    const serverTicks = ticks([...new Set([...before.server.keys(), ...server()])], before.server);
    const databaseTicks = ticks(
      [...new Set([...before.database.keys(), ...postgresOfOurs(database)])],
      before.database,
    );
    const selfTicks = ticksOf(process.pid) - before.self;
    const other =
      busyTicks() - busyBefore - serverTicks - databaseTicks - selfTicks - loadGeneratorCpuSeconds * TICKS_PER_SECOND;
    const seconds = (Date.now() - started) / 1000;
    return {
      otherCpu: Math.round((Math.max(0, other) / TICKS_PER_SECOND / seconds) * 100) / 100,
      serverSeconds: serverTicks / TICKS_PER_SECOND,
      databaseSeconds: databaseTicks / TICKS_PER_SECOND,
    };
  };
}
