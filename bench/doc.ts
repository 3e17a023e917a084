import { writeFileSync } from 'node:fs';
import { format, resolveConfig } from 'prettier';
import { goalsList, markdownTable, pageLatencyTable, SERVERS, type Report } from './report.js';

const n = (value: number) => value.toLocaleString('en');

/** Rows measured while the machine was busy with something else are worth less: say which. */
function disturbance(report: Report): string {
  const busy = report.rows.filter((r) => (r.otherCpu ?? 0) > 0.2);
  if (busy.length === 0) return 'No row was disturbed: other work never took more than 0.2 of a core.';
  const list = busy.map((r) => `${SERVERS[r.server]} ${r.scenario} (${r.otherCpu})`).join(', ');
  return `**These rows shared the machine with other work (more than 0.2 of a core) and read low:** ${list}.`;
}

/** docs/performance.md, rewritten from the report of the run that just finished (Prettier-clean, as CI checks). */
/**
 * What the scale rows show on a PostgreSQL with its default 128 MB shared_buffers, checked with
 * EXPLAIN (ANALYZE, BUFFERS) on a kept 10x database.
 */
const SCALE_NOTE = `What grows with the catalogue here is the memory, not the work. A page is the same index range scan at both
sizes (\`products_price_id_idx\`, the keyset condition in its Index Cond) touching the same ~53 buffers: a few
index pages and one heap page per product, since products of neighbouring prices lie far apart in the table. At
100,000 products the table and its indexes (about 40 MB) sit in PostgreSQL's shared buffers; at 1,000,000 they take
393 MB (121 MB of heap) against this machine's default \`shared_buffers\` of 128 MB, so a fresh range reads most of
its heap pages from the operating system's cache (\`Buffers: shared hit=2 read=51\` on a first read, \`hit=53\` on
a repeat). The ratio of the means therefore measures the server's buffer cache, not the pagination; p99 stays
within 1.5x. With \`shared_buffers\` sized to the catalogue, as a production server with a million products would
be, both sizes read from shared buffers.`;

export async function writePerformanceDoc(path: string, report: Report): Promise<void> {
  const { machine, options, sizes } = report;
  const scaleChecked = report.pageLatency.length > 1;
  const text = `# Performance

This page is rewritten by \`npm run bench\` (bench/run.ts) at the end of every run; to change its wording, change
bench/doc.ts. The raw numbers of the last run are in \`bench/results/latest.json\` (not committed).

## What the benchmark does

1. Creates a throw-away database \`bench_<timestamp>\` on the PostgreSQL named by \`BENCH_DATABASE_URL\` (default
   \`postgres://postgres@127.0.0.1:5432/postgres\`, used as the admin connection), applies the app's migrations
   with \`runMigrations\`, and loads a store with server-side \`INSERT … SELECT … FROM generate_series\`:
   ${n(sizes.products)} products (most with a stock of 1,000,000, some low or out of stock, 2 % archived, each
   stock matched by an \`initial\` ledger movement), ${n(sizes.customers)} customers each with a contact,
   login_names and a shared password hash, and ${n(sizes.orders)} orders of 1–5 distinct products with their
   sums, shipping address copy and a status history row for every step (pending, paid, shipped, delivered,
   cancelled); paid, shipped and delivered ones have a captured manual payment of their total. Seeded orders take no stock, so stock stays the sum of the ledger. Then \`VACUUM ANALYZE\`.
2. Signs in ${n(Math.min(2000, sizes.customers))} customers by writing the SHA-256 of generated \`st_…\` tokens to \`sessions\`, and picks the ids
   every server is driven with: 10,000 products, the tokens, those customers' orders, 10,000 products with stock.
3. Builds \`dist/\` (\`npm run build\`) and starts three servers from it, each in its own process (\`node …\`,
   \`LOG_LEVEL=warn\`, a free port): the app (\`dist/src/server.js\` with the Node.js flags of the \`start\` script, as \`npm start\` runs it) with 1 worker, the app
   with \`WORKERS=2\`, and the floor (\`dist/bench/floor/server.js\`).
   They stay up side by side and are measured one at a time, scenario by scenario, so that anything else
   running on the machine for a while hits one scenario of every server rather than every scenario of one.
4. Before any timing, checks that the floor answers byte for byte what the app answers (a product, a customer,
   eight orders, three pages of a price-range list with their \`Link\` and \`ETag\` headers), and that an order placed on
   either server reads back identically from the other with the same ledger rows.
5. Drives each scenario from a separate autocannon process: ${options.warmup} s warm-up, then
   ${options.duration} s measured, ${options.connections} connections. The server's memory is the sum of VmRSS
   over its process tree, sampled every 250 ms (the table's peak RSS); the RSS goal is judged per server process,
   the largest one of the tree, since with \`WORKERS=2\` a primary and two workers each hold their own heap.

| Scenario | Requests |
|---|---|
| product | \`GET /products/{id}\`, random ids from the chosen 10,000 |
| product-pages | \`GET /products?limit=50&min_price=…&max_price=…&sort=price\` (or \`-price\`), a range holding 1–3 % of the catalogue, then up to 9 more pages through the \`Link\` header |
| customer | \`GET /customers/{id}\` as that customer (bearer token); the answer lists its contact ids |
| order | \`GET /orders/{id}\` with items, status history and payment summary, as its owner |
| create-order | \`POST /orders\` with 2 random products (quantity 1–3) and the customer's contact as shipping address |

## The floor

\`bench/floor/\` serves the same five routes with \`node:http\`, \`pg\` (a Pool of 10, like the app) and
hand-written SQL: the same bearer check (SHA-256 lookup in \`sessions\` with \`expires_at > now()\`), the same
reads as the app makes them (the same queries, one round trip each, so the comparison is not about SQL), the same JSON (fields, order, values), the same \`ETag\` and
\`Link\` headers. Its \`POST /orders\` writes the same rows in one transaction: the order, its items, a conditional
\`UPDATE … WHERE stock >= qty\` per product in id order, one \`order\` ledger movement per item and a status history
row by \`customer:<id>\`, retried on deadlock or serialization failure, answering 201 with \`Location\`. It skips
what the benchmark never sends or never needs: schema validation of every field, problem+json details on
errors, security headers and request ids, idempotency keys, logging. So it is the cost of the same database
work with nothing around it: the app's req/s over the floor's is the share its framework, ORM and layers leave.
The floor never caches; where the app keeps something in memory (product reads, for one), it can beat the floor.
The servers inherit the environment of \`npm run bench\`, so \`REDIS_URL\` or any other setting of the app can be
given there.

## Machine

| | |
|---|---|
| CPUs | ${machine.cpus} × ${machine.cpuModel} |
| Memory | ${machine.memoryGb} GB |
| OS | ${machine.kernel} |
| Node.js | ${machine.node} |
| PostgreSQL | ${machine.postgres} (same machine) |

The load generator, the server under test and PostgreSQL share these ${machine.cpus} cores. Load average (1, 5,
15 min) when the run started: ${report.loadAverage.start.join(', ')}; when it ended: ${report.loadAverage.end.join(', ')}.
A load above about 1 before the start means other work was running, and it takes CPU from the servers
under test for as long as it goes on.

## Results

Run on ${report.startedAt} with

\`\`\`sh
${report.command}
\`\`\`

(${report.seconds} s in all). Latencies are of 2xx answers, to the millisecond as autocannon records them; req/s
counts every answer. _Other CPU_ is the CPU, in cores, that went to processes outside the benchmark (not the
server, its database backends, the load generator or the runner) during that row's warm-up and measurement.
${disturbance(report)} _CPU ms/req_ is the CPU time of the server's processes and of its PostgreSQL backends
divided by the answers they gave (warm-up included); _app/floor by CPU_ is the floor's server CPU per answer over
the app's. Other work on the machine takes throughput away but hardly changes what one answer costs, so on a
busy machine that ratio is the steadier of the two.

Goals are judged on req/s, as set; the CPU ratio is given beside them as a cross-check.

${markdownTable(report.rows)}

Memory at rest (one second after the server first answered, before any load): ${Object.entries(report.idleRssMb)
    .map(([key, mb]) => `${SERVERS[key as keyof typeof SERVERS]} ${mb} MB`)
    .join(', ')}. Processes counted: ${Object.entries(report.processes)
    .map(([key, list]) => `${SERVERS[key as keyof typeof SERVERS]}: ${list.map((p) => `\`${p}\``).join(', ')}`)
    .join('; ')}.

## Goals

${goalsList(report.goals)}

The read and write ratios are judged on the 1-worker app, the same single process as the floor; the 2-worker
row shows what a second process adds on this machine.

## Page latency as the catalogue grows

One connection reading price-range pages (first pages and the pages after them through \`Link\`), ${
    scaleChecked ? 'on the data set above and on one ten times larger' : 'on the data set above'
  }:

${pageLatencyTable(report.pageLatency)}

${
  scaleChecked
    ? 'The ten-times data set was loaded into a second throw-away database just for this.\n\n' + SCALE_NOTE
    : 'The ten-times comparison is skipped by default because loading it takes a few minutes; run ' +
      `\`npm run bench -- --scale-check\` to add a row for \`--scale ${Math.round(options.scale * 10_000) / 1000}\` (a second database with 10× everything).`
}

## Running it

\`\`\`sh
npm run bench                                   # all defaults: 3 s warm-up, 10 s measured, 20 connections
npm run bench -- --duration 30 --connections 50 # longer and harder
npm run bench -- --scale 0.1 --duration 2       # a quick try on a small data set
npm run bench -- --only product,create-order    # some scenarios only
npm run bench -- --scale-check                  # also the page latency on a 10× catalogue
npm run bench -- --cpu-prof --only create-order # CPU profile of the 1-worker app: bench/results/profile.txt
npm run bench -- --keep                         # keep the bench_… database to look at afterwards
\`\`\`

Runs with \`--only\` or \`--cpu-prof\` write \`bench/results/latest.json\` but leave this page alone. The raw
\`.cpuprofile\` files of a profiled run stay in \`bench/results/profiles/\` (open them in Chrome DevTools).
`;
  writeFileSync(path, await format(text, { ...(await resolveConfig(path)), parser: 'markdown' }));
}
