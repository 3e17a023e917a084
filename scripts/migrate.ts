import { ConfigError, loadConfig } from '../src/config.js';
import { createDatabase } from '../src/db/client.js';
import { runMigrations } from '../src/db/migrate.js';

try {
  const config = loadConfig();
  const database = await createDatabase(config);
  try {
    await runMigrations(database);
    console.log(`migrations applied (${database.kind})`);
  } finally {
    await database.close();
  }
} catch (error) {
  console.error(error instanceof ConfigError ? `configuration error: ${error.message}` : error);
  process.exit(1);
}
