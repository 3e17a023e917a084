// The floor: the routes the benchmark drives, done with node:http, pg and hand-written SQL, answering the same
// JSON as the app. What the app costs above this is the price of its framework, ORM and layers.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import pg from 'pg';
import { createOrder } from './create-order.js';
import { getCustomer, getOrder, getProduct, listProducts, type Actor } from './reads.js';
import { badInput, HttpError, nextLink, sendJson, sendProblem } from './respond.js';

pg.types.setTypeParser(pg.types.builtins.INT8, Number);
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
pool.on('error', () => {});

const BEARER = /^Bearer +(\S+)$/i;
const TOKEN = /^st_[A-Za-z0-9_-]{43}$/;

async function authenticate(req: IncomingMessage): Promise<Actor | null> {
  const token = BEARER.exec(req.headers.authorization ?? '')?.[1];
  if (!token || !TOKEN.test(token)) return null;
  const { rows } = await pool.query<{ customer_id: number | null; staff_id: number | null }>(
    'SELECT customer_id, staff_id FROM sessions WHERE token_hash = $1 AND expires_at > now()',
    [createHash('sha256').update(token).digest('hex')],
  );
  return rows[0] ? { customerId: rows[0].customer_id, staffId: rows[0].staff_id } : null;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw badInput('MALFORMED_JSON', 'the body is not valid JSON');
  }
}

const unauthenticated = () => new HttpError(401, 'UNAUTHENTICATED', 'a valid bearer token is required');

function idOf(segment: string | undefined): number {
  if (!segment || !/^\d{1,10}$/.test(segment) || Number(segment) < 1 || Number(segment) > 2 ** 31 - 1) {
    throw badInput('VALIDATION_FAILED', 'id must be a positive integer');
  }
  return Number(segment);
}

async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://floor');
  const [, resource, id, extra] = url.pathname.split('/');
  const actor = await authenticate(req);
  const signedIn = () => actor ?? Promise.reject(unauthenticated());
  if (extra !== undefined) throw new HttpError(404, 'NOT_FOUND', 'no such route');
  if (req.method === 'GET' && resource === 'health') {
    await pool.query('SELECT 1');
    return sendJson(res, 200, { status: 'ok', database: 'ok', driver: 'postgres' });
  }
  if (req.method === 'GET' && resource === 'products' && id === undefined) {
    const page = await listProducts(pool, url.searchParams);
    return sendJson(res, 200, page.items, page.nextCursor ? { link: nextLink(req.url!, page.nextCursor) } : {});
  }
  if (req.method === 'GET' && resource === 'products') return sendJson(res, 200, await getProduct(pool, idOf(id)));
  if (req.method === 'GET' && resource === 'customers') {
    return sendJson(res, 200, await getCustomer(pool, idOf(id), await signedIn()));
  }
  if (req.method === 'GET' && resource === 'orders' && id !== undefined) {
    return sendJson(res, 200, await getOrder(pool, idOf(id), await signedIn()));
  }
  if (req.method === 'POST' && resource === 'orders' && id === undefined) {
    const who = await signedIn();
    const order = await createOrder(pool, await readJson(req), who);
    return sendJson(res, 201, order, { location: `/orders/${order.id}` });
  }
  throw new HttpError(404, 'NOT_FOUND', 'no such route');
}

const server = createServer((req, res) => {
  route(req, res).catch((error: unknown) => {
    if (error instanceof HttpError) return sendProblem(res, error.status, error.code, error.message);
    console.error(error);
    sendProblem(res, 500, 'INTERNAL', 'internal error');
  });
});
server.keepAliveTimeout = 72_000;
server.listen(Number(process.env.PORT ?? 3001), process.env.HOST ?? '127.0.0.1');

const close = () => server.close(() => void pool.end().then(() => process.exit(0)));
process.once('SIGTERM', close);
process.once('SIGINT', close);
