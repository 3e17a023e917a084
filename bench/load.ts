// The load generator, in its own process so that it never shares an event loop with the server under test.
// Input: one JSON argument (LoadJob); output: one line "RESULT <json>" (LoadResult) on stdout.
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import type { Fixture } from './fixture.js';
import { requestsFor, type ScenarioName } from './scenarios.js';

export type LoadJob = {
  url: string;
  scenario: ScenarioName;
  fixturePath: string;
  connections: number;
  warmup: number;
  duration: number;
};

export type LoadResult = {
  requests: number;
  /** Answers of the warm-up and the measured run together: the server's CPU is counted over both. */
  requestsWithWarmup: number;
  reqPerSec: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodes: Record<string, number>;
  /** CPU this load generator used, warm-up included, so that it is not mistaken for someone else's work. */
  cpuSeconds: number;
};

async function hammer(job: LoadJob, fixture: Fixture, seconds: number): Promise<autocannon.Result> {
  return autocannon({
    url: job.url,
    connections: job.connections,
    duration: seconds,
    requests: requestsFor(job.scenario, fixture),
    timeout: 10,
  });
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '') as LoadJob;
  const fixture = JSON.parse(readFileSync(job.fixturePath, 'utf8')) as Fixture;
  const warm = job.warmup > 0 ? (await hammer(job, fixture, job.warmup)).requests.total : 0;
  const result = await hammer(job, fixture, job.duration);
  const statusCodes = Object.fromEntries(
    Object.entries(result.statusCodeStats as Record<string, { count: number }>).map(([code, s]) => [code, s.count]),
  );
  const output: LoadResult = {
    requests: result.requests.total,
    requestsWithWarmup: warm + result.requests.total,
    reqPerSec: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
    mean: result.latency.average,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    statusCodes,
    cpuSeconds: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
  };
  console.log(`RESULT ${JSON.stringify(output)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
