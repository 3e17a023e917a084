import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { watchCpu } from './cpu.js';
import type { LoadJob, LoadResult } from './load.js';
import { sampleRss, type Server } from './servers.js';

/** CPU milliseconds per answer: of the server's processes, and of its database backends. */
export type CpuMs = { server: number; database: number };

const LOAD_ENTRY = fileURLToPath(new URL('./load.ts', import.meta.url));

/** Runs one scenario from a separate load-generator process while sampling the server's memory. */
export async function measure(
  server: Server,
  database: string,
  job: Omit<LoadJob, 'url'>,
): Promise<{
  result: LoadResult;
  peakRssMb: number;
  peakProcessRssMb: number;
  processes: string[];
  otherCpu: number;
  cpuMs: CpuMs;
}> {
  const rss = sampleRss(server.child.pid!);
  const cpu = watchCpu(server.child.pid!, database);
  try {
    const result = await runLoad({ ...job, url: server.url }, (job.warmup + job.duration + 60) * 1000);
    const { peakMb, peakProcessMb, processes } = rss.stop();
    const use = cpu(result.cpuSeconds);
    const perRequest = (seconds: number) =>
      Math.round((seconds * 1000 * 100) / Math.max(1, result.requestsWithWarmup)) / 100;
    const cpuMs = { server: perRequest(use.serverSeconds), database: perRequest(use.databaseSeconds) };
    return { result, peakRssMb: peakMb, peakProcessRssMb: peakProcessMb, processes, otherCpu: use.otherCpu, cpuMs };
  } finally {
    rss.stop();
  }
}

function runLoad(job: LoadJob, timeoutMs: number): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', LOAD_ENTRY, JSON.stringify(job)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (code === 0 && line) resolve(JSON.parse(line.slice('RESULT '.length)) as LoadResult);
      else reject(new Error(`load generator for ${job.scenario} exited with ${code}: ${stderr.trim()}`));
    });
  });
}
