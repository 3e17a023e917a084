import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

type Node = { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number };
type CpuProfile = { nodes: Node[]; samples: number[] };

/** Where a frame's code lives: a package under node_modules, a file of ours, or the engine itself. */
function owner(url: string): string {
  if (!url) return '(native / idle / gc)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (pkg) return pkg;
  if (url.startsWith('node:')) return 'node core';
  const ours = /\/(src|bench)\/(.+)$/.exec(url);
  return ours ? `${ours[1]}/${ours[2]}` : url;
}

/** Self time per owner and the hottest functions of every .cpuprofile in a folder, as report lines. */
export function summariseProfiles(dir: string, top = 12): string[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  const byOwner = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  for (const file of files) {
    const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as CpuProfile;
    for (const node of profile.nodes) {
      const hits = node.hitCount ?? 0;
      const frame = node.callFrame;
      if (frame.functionName === '(idle)') continue;
      total += hits;
      const who = owner(frame.url);
      byOwner.set(who, (byOwner.get(who) ?? 0) + hits);
      const fn = `${frame.functionName || '(anonymous)'} ${who}:${frame.lineNumber + 1}`;
      byFunction.set(fn, (byFunction.get(fn) ?? 0) + hits);
    }
  }
  const share = (hits: number) => `${((hits / Math.max(total, 1)) * 100).toFixed(1)}%`;
  const ranked = (map: Map<string, number>) => [...map].sort((a, b) => b[1] - a[1]).slice(0, top);
  return [
    `busy samples: ${total} in ${files.length} profile(s)`,
    'self time by package or file:',
    ...ranked(byOwner).map(([name, hits]) => `  ${share(hits).padStart(6)}  ${name}`),
    'hottest functions (self time):',
    ...ranked(byFunction).map(([name, hits]) => `  ${share(hits).padStart(6)}  ${name}`),
  ];
}
