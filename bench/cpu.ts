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

/**
 * Measures, over a stretch of time, how much CPU went to processes that are not part of the benchmark: the
 * server under test, its database backends, the load generator (which reports its own use) and this process.
 * On a shared machine that number says which rows were disturbed, in cores (0.5 = half a core on average).
 */
export function watchOtherCpu(serverPid: number, database: string) {
  const ours = () => [process.pid, ...processTree(serverPid).map((p) => p.pid), ...postgresOfOurs(database)];
  const started = Date.now();
  const busyBefore = busyTicks();
  const oursBefore = new Map(ours().map((pid) => [pid, ticksOf(pid)]));
  return (loadGeneratorCpuSeconds: number): number => {
    const pids = new Set([...oursBefore.keys(), ...ours()]);
    let oursTicks = 0;
    for (const pid of pids) oursTicks += Math.max(0, ticksOf(pid) - (oursBefore.get(pid) ?? 0));
    const other = busyTicks() - busyBefore - oursTicks - loadGeneratorCpuSeconds * TICKS_PER_SECOND;
    const seconds = (Date.now() - started) / 1000;
    return Math.round((Math.max(0, other) / TICKS_PER_SECOND / seconds) * 100) / 100;
  };
}
