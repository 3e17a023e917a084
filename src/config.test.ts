import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

/** The production settings of issue 8: their defaults, and a one-line refusal for every bad value. */
describe('loadConfig: the production settings', () => {
  it('has the documented defaults', () => {
    expect(loadConfig({})).toMatchObject({
      shutdownTimeoutSeconds: 25,
      dbTimeoutMs: 5000,
      dbPoolSize: 10,
      dbStatementTimeoutMs: 5000,
      rateLimitPerMinute: 0,
      trustProxy: false,
      metricsToken: '',
    });
  });

  it('takes valid values, and DB_STATEMENT_TIMEOUT_MS follows DB_TIMEOUT_MS unless set', () => {
    const config = loadConfig({
      SHUTDOWN_TIMEOUT_S: '5',
      DB_TIMEOUT_MS: '2000',
      DB_POOL_SIZE: '20',
      RATE_LIMIT_PER_MINUTE: '600',
      TRUST_PROXY: 'true',
      METRICS_TOKEN: 'a-scrape-token-of-length',
    });
    expect(config).toMatchObject({
      shutdownTimeoutSeconds: 5,
      dbTimeoutMs: 2000,
      dbStatementTimeoutMs: 2000,
      dbPoolSize: 20,
      rateLimitPerMinute: 600,
      trustProxy: true,
      metricsToken: 'a-scrape-token-of-length',
    });
    expect(loadConfig({ DB_STATEMENT_TIMEOUT_MS: '0' }).dbStatementTimeoutMs).toBe(0);
  });

  it.each([
    ['SHUTDOWN_TIMEOUT_S', '0'],
    ['SHUTDOWN_TIMEOUT_S', 'soon'],
    ['DB_TIMEOUT_MS', '-1'],
    ['DB_TIMEOUT_MS', '50'],
    ['DB_TIMEOUT_MS', '1e3'],
    ['DB_POOL_SIZE', '0'],
    ['DB_POOL_SIZE', '10.5'],
    ['DB_STATEMENT_TIMEOUT_MS', 'forever'],
    ['RATE_LIMIT_PER_MINUTE', '-5'],
    ['RATE_LIMIT_PER_MINUTE', '99999999999'],
    ['TRUST_PROXY', 'yes please'],
    ['METRICS_TOKEN', 'short'],
    ['METRICS_TOKEN', 'a token with spaces in it'],
  ])('refuses %s=%j with a line naming it', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});
