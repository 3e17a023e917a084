import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export type Server = { name: string; url: string; child: ChildProcess; output: () => string };

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/**
 * The Node.js flags of package.json's `start` script (the words between `node` and the script it runs), so that the
 * benchmark runs the app exactly as `npm start` does.
 */
export function startScriptFlags(packageJsonPath: string): string[] {
  const { scripts } = JSON.parse(readFileSync(packageJsonPath, 'utf8')) as { scripts: { start: string } };
  const words = scripts.start.trim().split(/\s+/);
  const node = words.indexOf('node');
  const entry = words.findIndex((word, i) => i > node && !word.startsWith('-'));
  if (node < 0 || entry < 0) throw new Error(`cannot read the node flags of the start script: ${scripts.start}`);
  return words.slice(node + 1, entry);
}

/** Starts `node <entry>` (built JavaScript, as `npm start` runs it) on a free port; waits until GET /health is 200. */
export async function startServer(
  name: string,
  entry: string,
  env: Record<string, string>,
  nodeFlags: string[] = [],
): Promise<Server> {
  const port = await freePort();
  const loader = entry.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const child = spawn(process.execPath, [...nodeFlags, ...loader, entry], {
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const server = { name, url: `http://127.0.0.1:${port}`, child, output: () => output };
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}: ${output.trim()}`);
    try {
      if ((await fetch(`${server.url}/health`)).ok) return server;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  await stopServer(server);
  throw new Error(`${name} did not answer /health within 60 s: ${output.trim()}`);
}

export async function stopServer(server: Server): Promise<void> {
  const { child } = server;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

type Proc = { pid: number; ppid: number; rssKb: number; command: string };

function processTable(): Proc[] {
  const table: Proc[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1] ?? 0);
      const rssKb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
      const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
      table.push({ pid: Number(entry), ppid, rssKb, command });
    } catch {
      // the process ended while we looked
    }
  }
  return table;
}

/** The process and all its descendants. */
export function processTree(rootPid: number): Proc[] {
  const table = processTable();
  const tree = table.filter((p) => p.pid === rootPid);
  for (let i = 0; i < tree.length; i++) tree.push(...table.filter((p) => p.ppid === tree[i]!.pid));
  return tree;
}

/** The summed VmRSS of a process tree, in MB. */
export const rssMb = (rootPid: number) =>
  Math.round((processTree(rootPid).reduce((sum, p) => sum + p.rssKb, 0) / 1024) * 10) / 10;

/**
 * Samples the VmRSS of a process tree every 250 ms until stopped; returns the peak of the sum and the peak of the
 * largest single process (a cluster's worker), in MB.
 */
export function sampleRss(rootPid: number): {
  stop: () => { peakMb: number; peakProcessMb: number; processes: string[] };
} {
  let peakKb = 0;
  let peakProcessKb = 0;
  const seen = new Set<string>();
  const sample = () => {
    const tree = processTree(rootPid);
    peakKb = Math.max(
      peakKb,
      tree.reduce((sum, p) => sum + p.rssKb, 0),
    );
    peakProcessKb = Math.max(peakProcessKb, ...tree.map((p) => p.rssKb));
    for (const p of tree) seen.add(p.command.replace(/^\S*\/(\S+)/, '$1').slice(0, 80));
  };
  sample();
  const timer = setInterval(sample, 250);
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      const mb = (kb: number) => Math.round((kb / 1024) * 10) / 10;
      return { peakMb: mb(peakKb), peakProcessMb: mb(peakProcessKb), processes: [...seen] };
    },
  };
}
