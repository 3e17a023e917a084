import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const ConfigSchema = Type.Object({
  databaseUrl: Type.String(),
  dataDir: Type.String({ minLength: 1 }),
  port: Type.Integer({ minimum: 0, maximum: 65535 }),
  host: Type.String({ minLength: 1 }),
  logLevel: Type.Union(LOG_LEVELS.map((l) => Type.Literal(l))),
  storeCurrency: Type.String({ pattern: '^[A-Z]{3}$' }),
  bodyLimit: Type.Integer({ minimum: 1024 }),
  tokenTtlSeconds: Type.Integer({ minimum: 1 }),
  workers: Type.Integer({ minimum: 1 }),
  paymentWebhookSecret: Type.String(),
  carrierWebhookSecret: Type.String(),
  returnWindowDays: Type.Integer({ minimum: 0 }),
  stripe: Type.Union([
    Type.Object({ secretKey: Type.String(), webhookSecret: Type.String(), apiBase: Type.String() }),
    Type.Null(),
  ]),
  pendingOrderTtlMinutes: Type.Integer({ minimum: 0 }),
  redisUrl: Type.String(),
  corsOrigins: Type.Array(Type.String()),
  admin: Type.Union([
    Type.Object({ username: Type.String(), email: Type.String(), password: Type.String() }),
    Type.Null(),
  ]),
  shutdownTimeoutSeconds: Type.Integer({ minimum: 1 }),
  dbTimeoutMs: Type.Integer({ minimum: 100 }),
  dbPoolSize: Type.Integer({ minimum: 1 }),
  dbStatementTimeoutMs: Type.Integer({ minimum: 0 }),
  rateLimitPerMinute: Type.Integer({ minimum: 0 }),
  trustProxy: Type.Boolean(),
  metricsToken: Type.String(),
});

export type Config = Static<typeof ConfigSchema>;

/** Thrown with a single line naming the offending variable, so a bad deploy fails loudly and readably. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

function parseInteger(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return Number(raw);
}

function parseDatabaseUrl(raw: string | undefined): string {
  if (raw === undefined || raw === '') return '';
  if (raw === 'memory://' || /^postgres(ql)?:\/\/.+/.test(raw)) {
    if (raw !== 'memory://') {
      try {
        new URL(raw);
      } catch {
        throw new ConfigError('DATABASE_URL is not a valid URL');
      }
    }
    return raw;
  }
  throw new ConfigError(
    'DATABASE_URL must start with postgres:// or postgresql://, be memory://, or be unset for embedded PGlite',
  );
}

/** Stripe is on only when both secrets are set; STRIPE_API_BASE points the SDK elsewhere (a stand-in). */
function parseStripe(env: Env): Config['stripe'] {
  const secretKey = env.STRIPE_SECRET_KEY ?? '';
  const webhookSecret = env.STRIPE_WEBHOOK_SECRET ?? '';
  if (!secretKey && !webhookSecret) return null;
  if (!secretKey || !webhookSecret) {
    throw new ConfigError('STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET must be set together');
  }
  const apiBase = env.STRIPE_API_BASE ?? '';
  if (apiBase && !/^https?:\/\/[^/]+\/?$/.test(apiBase)) {
    throw new ConfigError('STRIPE_API_BASE must be an origin such as http://127.0.0.1:12111');
  }
  return { secretKey, webhookSecret, apiBase };
}

function parseRedisUrl(raw: string | undefined): string {
  if (raw === undefined || raw === '') return '';
  if (!/^rediss?:\/\/.+/.test(raw)) throw new ConfigError('REDIS_URL must start with redis:// or rediss://');
  return raw;
}

function parseOrigins(raw: string | undefined): string[] {
  if (raw === undefined || raw.trim() === '') return [];
  const origins = raw
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  for (const origin of origins) {
    if (origin === '*') continue;
    try {
      const url = new URL(origin);
      if (url.origin !== origin.replace(/\/$/, '')) throw new Error('not an origin');
    } catch {
      throw new ConfigError(
        `CORS_ORIGINS must be a comma-separated list of origins such as https://shop.example, got "${origin}"`,
      );
    }
  }
  return origins;
}

/** The first admin, made at start when all three are set and no account has that username yet. */
function parseAdmin(env: Env): Config['admin'] {
  const username = env.ADMIN_USERNAME;
  const email = env.ADMIN_EMAIL;
  const password = env.ADMIN_PASSWORD;
  if (!username && !email && !password) return null;
  if (!username || !email || !password) {
    const missing = [!username && 'ADMIN_USERNAME', !email && 'ADMIN_EMAIL', !password && 'ADMIN_PASSWORD'].filter(
      Boolean,
    );
    throw new ConfigError(`${missing.join(' and ')} must be set together with the other ADMIN_ variables`);
  }
  if (!/^[A-Za-z0-9._-]{3,50}$/.test(username)) {
    throw new ConfigError('ADMIN_USERNAME must be 3–50 letters, digits, dots, underscores or hyphens');
  }
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw new ConfigError('ADMIN_EMAIL must be an email address');
  if (password.length < 8 || password.length > 128) throw new ConfigError('ADMIN_PASSWORD must be 8–128 characters');
  return { username, email, password };
}

function parseFlag(env: Env, name: string): boolean {
  const raw = (env[name] ?? '').trim().toLowerCase();
  if (raw === '' || raw === '0' || raw === 'false') return false;
  if (raw === '1' || raw === 'true') return true;
  throw new ConfigError(`${name} must be true or false, got "${env[name]}"`);
}

/** A shared secret for scrapers; short ones are refused because /metrics tells a lot about the business. */
function parseMetricsToken(raw: string | undefined): string {
  if (raw === undefined || raw === '') return '';
  if (raw.length < 16 || /\s/.test(raw))
    throw new ConfigError('METRICS_TOKEN must be at least 16 characters, no spaces');
  return raw;
}

export function isSupportedCurrency(code: string): boolean {
  return /^[A-Z]{3}$/.test(code) && Intl.supportedValuesOf('currency').includes(code);
}

export function loadConfig(env: Env = process.env): Config {
  const logLevel = env.LOG_LEVEL ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }
  const storeCurrency = env.STORE_CURRENCY ?? 'USD';
  if (!isSupportedCurrency(storeCurrency)) {
    throw new ConfigError(`STORE_CURRENCY must be an ISO 4217 code such as USD, got "${storeCurrency}"`);
  }
  const host = env.HOST ?? '127.0.0.1';
  if (host.trim() === '') throw new ConfigError('HOST must not be empty');
  const dataDir = env.DATA_DIR ?? './data';
  if (dataDir.trim() === '') throw new ConfigError('DATA_DIR must not be empty');

  const dbTimeoutMs = parseInteger(env, 'DB_TIMEOUT_MS', 5000, 100, 600_000);

  const config: Config = {
    databaseUrl: parseDatabaseUrl(env.DATABASE_URL),
    dataDir,
    port: parseInteger(env, 'PORT', 3000, 0, 65535),
    host,
    logLevel: logLevel as Config['logLevel'],
    storeCurrency,
    bodyLimit: parseInteger(env, 'BODY_LIMIT_BYTES', 1024 * 1024, 1024, 100 * 1024 * 1024),
    tokenTtlSeconds: parseInteger(env, 'TOKEN_TTL_SECONDS', 900, 1, 7 * 24 * 3600),
    workers: parseInteger(env, 'WORKERS', 1, 1, 64),
    paymentWebhookSecret: env.PAYMENT_WEBHOOK_SECRET ?? '',
    carrierWebhookSecret: env.CARRIER_WEBHOOK_SECRET ?? '',
    returnWindowDays: parseInteger(env, 'RETURN_WINDOW_DAYS', 30, 0, 3650),
    stripe: parseStripe(env),
    pendingOrderTtlMinutes: parseInteger(env, 'PENDING_ORDER_TTL_MINUTES', 60, 0, 60 * 24 * 365),
    redisUrl: parseRedisUrl(env.REDIS_URL),
    corsOrigins: parseOrigins(env.CORS_ORIGINS),
    admin: parseAdmin(env),
    shutdownTimeoutSeconds: parseInteger(env, 'SHUTDOWN_TIMEOUT_S', 25, 1, 3600),
    dbTimeoutMs,
    dbPoolSize: parseInteger(env, 'DB_POOL_SIZE', 10, 1, 1000),
    // A statement still running when its request has been answered 503 only holds locks and a connection.
    dbStatementTimeoutMs: parseInteger(env, 'DB_STATEMENT_TIMEOUT_MS', dbTimeoutMs, 0, 3_600_000),
    rateLimitPerMinute: parseInteger(env, 'RATE_LIMIT_PER_MINUTE', 0, 0, 1_000_000),
    trustProxy: parseFlag(env, 'TRUST_PROXY'),
    metricsToken: parseMetricsToken(env.METRICS_TOKEN),
  };
  if (config.workers > 1 && !/^postgres(ql)?:\/\//.test(config.databaseUrl)) {
    throw new ConfigError(
      `WORKERS=${config.workers} needs PostgreSQL (DATABASE_URL=postgres://…): embedded PGlite serves a single process`,
    );
  }
  if (!Value.Check(ConfigSchema, config)) throw new ConfigError('configuration is invalid');
  return config;
}

/** A complete config for tests and tools; anything given overrides the defaults. */
export function defineConfig(overrides: Partial<Config> = {}): Config {
  return { ...loadConfig({}), logLevel: 'silent', databaseUrl: 'memory://', ...overrides };
}
