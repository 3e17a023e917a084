import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../src/config.js';
import { createDatabase } from '../src/db/client.js';
import { domainErrorFromDb } from '../src/db/errors.js';
import { runMigrations } from '../src/db/migrate.js';
import { createBodyValidator } from '../src/http/validation.js';
import { fieldPath } from '../src/http/errors.js';
import { AppError } from '../src/lib/errors.js';
import { CreateStaffBody } from '../src/modules/staff/staff.schemas.js';
import { createServices } from '../src/services.js';

// Usage: npm run create-admin [-- --username NAME --email ADDRESS]
// Asks for what is missing; the password is read without echo, or as the next line of standard input when it is
// not a terminal (echo -e "root\nroot@example.com\nsecret-password" | npm run create-admin).

function readHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stdout.write(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    let value = '';
    const onData = (chunk: Buffer) => {
      for (const char of chunk.toString('utf8')) {
        if (char === '\r' || char === '\n') {
          stdin.setRawMode(false);
          stdin.pause();
          stdin.off('data', onData);
          process.stdout.write('\n');
          resolve(value);
          return;
        }
        if (char === '\u0003') {
          stdin.setRawMode(false);
          reject(new Error('cancelled'));
          return;
        }
        if (char === '\u007f' || char === '\b') value = value.slice(0, -1);
        else value += char;
      }
    };
    stdin.on('data', onData);
  });
}

async function readPipedLines(): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of createInterface({ input: process.stdin, terminal: false })) lines.push(line.trim());
  return lines;
}

async function collect(): Promise<{ username: string; email_id: string; password: string }> {
  const { values } = parseArgs({ options: { username: { type: 'string' }, email: { type: 'string' } } });
  if (!process.stdin.isTTY) {
    const lines = await readPipedLines();
    const username = values.username ?? lines.shift() ?? '';
    const email = values.email ?? lines.shift() ?? '';
    return { username, email_id: email, password: lines.shift() ?? '' };
  }
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  const username = values.username ?? (await rl.question('Admin username: ')).trim();
  const email = values.email ?? (await rl.question('Admin email: ')).trim();
  rl.close();
  const password = await readHidden('Password (8–128 characters, not shown): ');
  const again = await readHidden('Password again: ');
  if (password !== again) throw new AppError('invalid_input', 'PASSWORD_MISMATCH', 'the two passwords differ');
  return { username, email_id: email, password };
}

async function main(): Promise<void> {
  const config = loadConfig();
  const input = await collect();
  const validate = createBodyValidator().compile(CreateStaffBody);
  if (!validate(input)) {
    for (const problem of validate.errors ?? [])
      console.error(`${fieldPath(problem.instancePath) || 'input'}: ${problem.message}`);
    process.exit(1);
  }
  const database = await createDatabase(config);
  try {
    await runMigrations(database);
    const member = await createServices(database.db, config).staff.create(input);
    console.log(`admin "${member.username}" created (id ${member.id}); log in with POST /auth/login`);
  } finally {
    await database.close();
  }
}

main().catch((error: unknown) => {
  const known = error instanceof AppError ? error : domainErrorFromDb(error);
  if (error instanceof ConfigError) console.error(`configuration error: ${error.message}`);
  else if (known) console.error(`cannot create the admin: ${known.message}`);
  else console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
