import type { LoadResult } from './load.js';
import type { CpuMs } from './measure.js';
import type { Machine } from './machine.js';
import type { Options } from './options.js';
import { READ_SCENARIOS, SCENARIOS, type ScenarioName } from './scenarios.js';
import type { Sizes } from './seed.js';

export const SERVERS = { app1: 'app, 1 worker', app2: 'app, 2 workers', floor: 'floor' } as const;
export type ServerKey = keyof typeof SERVERS;

export type Row = {
  server: ServerKey;
  scenario: ScenarioName;
  /** Why it was not measured, when it was not. */
  skipped?: string;
  result?: LoadResult;
  peakRssMb?: number;
  /** The largest single process of the server (with WORKERS, one worker). */
  peakProcessRssMb?: number;
  /** app req/s over floor req/s for the same scenario. */
  ratio?: number;
  /** CPU (in cores) that went to processes outside the benchmark while this row was measured. */
  otherCpu?: number;
  /** CPU milliseconds per answer of the server's processes and of its database backends. */
  cpuMs?: CpuMs;
  /** floor CPU per answer over app CPU per answer (server processes only): the ratio other work hardly moves. */
  cpuRatio?: number;
};

export type PageLatency = {
  scale: number;
  products: number;
  requests: number;
  p50: number;
  p99: number;
  mean: number;
  otherCpu: number;
};
export type Goal = { goal: string; met: boolean; detail: string };

export type Report = {
  startedAt: string;
  seconds: number;
  command: string;
  machine: Machine;
  options: Omit<Options, 'adminUrl'>;
  sizes: Sizes;
  rows: Row[];
  processes: Partial<Record<ServerKey, string[]>>;
  /** Memory of each server one second after it first answered, before any load. */
  idleRssMb: Partial<Record<ServerKey, number>>;
  pageLatency: PageLatency[];
  /** os.loadavg() before the run and after it: other work on the machine skews every number. */
  loadAverage: { start: number[]; end: number[] };
  goals: Goal[];
  profile: string[];
};

export function addRatios(rows: Row[]): void {
  for (const row of rows) {
    const floor = rows.find((r) => r.server === 'floor' && r.scenario === row.scenario)?.result;
    if (row.server !== 'floor' && row.result && floor && floor.reqPerSec > 0) {
      row.ratio = Math.round((row.result.reqPerSec / floor.reqPerSec) * 100) / 100;
    }
    const floorCpu = rows.find((r) => r.server === 'floor' && r.scenario === row.scenario)?.cpuMs?.server;
    if (row.server !== 'floor' && row.cpuMs && floorCpu && row.cpuMs.server > 0) {
      row.cpuRatio = Math.round((floorCpu / row.cpuMs.server) * 100) / 100;
    }
  }
}

const RSS_LIMIT_MB = 200;

export function judge(rows: Row[]): Goal[] {
  const measured = rows.filter((r) => r.result);
  const failing = measured.filter((r) => r.result!.errors + r.result!.non2xx > 0);
  const app1 = (names: ScenarioName[]) => rows.filter((r) => r.server === 'app1' && names.includes(r.scenario));
  const ratioGoal = (goal: string, names: ScenarioName[], min: number): Goal => {
    const relevant = app1(names);
    const ratios = relevant.map((r) => `${r.scenario} ${r.ratio ?? 'n/a'}`);
    const byCpu = relevant.map((r) => `${r.scenario} ${r.cpuRatio ?? 'n/a'}`);
    return {
      goal,
      met: relevant.length > 0 && relevant.every((r) => r.ratio !== undefined && r.ratio >= min),
      detail:
        relevant.length > 0
          ? `app (1 worker) / floor req/s: ${ratios.join(', ')}; by server CPU per request: ${byCpu.join(', ')}`
          : 'not measured in this run',
    };
  };
  const appRss = rows.filter((r) => r.server !== 'floor' && r.peakRssMb !== undefined);
  const peak = (server: ServerKey, of: (r: Row) => number | undefined) =>
    Math.max(0, ...appRss.filter((r) => r.server === server).map((r) => of(r) ?? 0));
  // Per server process: with WORKERS=2 three processes run (a primary and two workers), each its own heap.
  const processPeak = (r: Row) => r.peakProcessRssMb ?? r.peakRssMb;
  return [
    {
      goal: 'every scenario without errors',
      met: measured.length > 0 && failing.length === 0,
      detail:
        failing.length === 0
          ? `${measured.length} runs, 0 errors, 0 non-2xx`
          : failing
              .map((r) => `${SERVERS[r.server]} ${r.scenario}: ${r.result!.errors} errors, ${r.result!.non2xx} non-2xx`)
              .join('; '),
    },
    ratioGoal('reads ≥ 0.8× floor', READ_SCENARIOS, 0.8),
    ratioGoal('POST /orders ≥ 0.7× floor', ['create-order'], 0.7),
    {
      goal: `server RSS under ${RSS_LIMIT_MB} MB under load, per server process`,
      met: appRss.length > 0 && appRss.every((r) => processPeak(r)! < RSS_LIMIT_MB),
      detail: (['app1', 'app2'] as const)
        .filter((s) => appRss.some((r) => r.server === s))
        .map(
          (s) =>
            `${SERVERS[s]} peak ${peak(s, (r) => r.peakRssMb)} MB in all, ${peak(s, processPeak)} MB its largest process`,
        )
        .join('; '),
    },
  ];
}

const fixed = (n: number | undefined, digits = 0) => (n === undefined ? '' : n.toFixed(digits));

export function markdownTable(rows: Row[]): string {
  const lines = [
    '| Scenario | Server | req/s | p50 ms | p99 ms | max ms | errors | non-2xx | peak RSS MB | app/floor | CPU ms/req server + db | app/floor by CPU | other CPU |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of rows) {
    const r = row.result;
    const cells = r
      ? [fixed(r.reqPerSec), fixed(r.p50), fixed(r.p99), fixed(r.max), String(r.errors), String(r.non2xx)]
      : [row.skipped ?? 'not measured', '', '', '', '', ''];
    const ratio = row.server === 'floor' ? '—' : fixed(row.ratio, 2);
    const cpuRatio = row.server === 'floor' ? '—' : fixed(row.cpuRatio, 2);
    const cpu = row.cpuMs ? `${row.cpuMs.server.toFixed(2)} + ${row.cpuMs.database.toFixed(2)}` : '';
    lines.push(
      `| ${SCENARIOS[row.scenario]} | ${SERVERS[row.server]} | ${cells.join(' | ')} | ${fixed(row.peakRssMb)} | ${ratio} | ${cpu} | ${cpuRatio} | ${fixed(row.otherCpu, 2)} |`,
    );
  }
  return lines.join('\n');
}

export function pageLatencyTable(latencies: PageLatency[]): string {
  return [
    '| Data set | products | pages read | p50 ms | p99 ms | mean ms | other CPU |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...latencies.map(
      (l) =>
        `| --scale ${l.scale} | ${l.products.toLocaleString('en')} | ${l.requests} | ${fixed(l.p50, 1)} | ${fixed(l.p99, 1)} | ${fixed(l.mean, 2)} | ${fixed(l.otherCpu, 2)} |`,
    ),
  ].join('\n');
}

export const goalsList = (goals: Goal[]) =>
  goals.map((g) => `- ${g.met ? '**met**' : '**not met**'}: ${g.goal} (${g.detail})`).join('\n');
