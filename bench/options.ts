import { parseArgs } from 'node:util';

export type Options = {
  adminUrl: string;
  scale: number;
  warmup: number;
  duration: number;
  connections: number;
  keep: boolean;
  scaleCheck: boolean;
  cpuProf: boolean;
  /** Scenario names to run (all by default); handy while working on one route. */
  only: string[] | null;
};

const USAGE = `usage: npm run bench -- [--scale N] [--duration S] [--warmup S] [--connections N] [--keep]
                          [--scale-check] [--cpu-prof] [--only name,name]
  BENCH_DATABASE_URL  admin connection (default postgres://postgres@127.0.0.1:5432/postgres)`;

function positive(name: string, raw: string | undefined, fallback: number, integer: boolean): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new Error(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got "${raw}"\n${USAGE}`);
  }
  return value;
}

export function parseOptions(argv: string[], env: NodeJS.ProcessEnv): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      scale: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      keep: { type: 'boolean', default: false },
      'scale-check': { type: 'boolean', default: false },
      'cpu-prof': { type: 'boolean', default: false },
      only: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  return {
    adminUrl: env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres',
    // A fraction (--scale 0.1) is allowed for a quick try; the documented numbers use 1.
    scale: positive('scale', values.scale, 1, false),
    warmup: positive('warmup', values.warmup, 3, false),
    duration: positive('duration', values.duration, 10, false),
    connections: positive('connections', values.connections, 20, true),
    keep: values.keep,
    scaleCheck: values['scale-check'],
    cpuProf: values['cpu-prof'],
    only: values.only ? values.only.split(',').map((s) => s.trim()) : null,
  };
}
