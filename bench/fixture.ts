import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';

/** Everything the load generator needs, chosen up front so that every server gets the same ids. */
export type Fixture = {
  productIds: number[];
  /** Active products with a large stock: POST /orders never runs short on them. */
  orderableIds: number[];
  customers: { id: number; token: string; contactId: number }[];
  orders: { id: number; token: string }[];
  /** Prices at 0, 1, …, 100 percent of the active catalogue, to draw realistic price ranges from. */
  priceQuantiles: number[];
};

const SAMPLE = 10_000;

/** A bearer token as the app issues them: st_ and 32 random bytes in base64url. */
const newToken = () => `st_${randomBytes(32).toString('base64url')}`;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Signs in `tokens` customers (sessions rows with far-off expiry) and picks the id sets of the scenarios. */
export async function prepareFixture(url: string, tokens: number): Promise<Fixture> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('SELECT setseed(0.17)');
    const chosen = await client.query<{ id: number; contact_id: number }>(
      `SELECT c.id, cc.contact_id FROM customers c JOIN customer_contacts cc ON cc.customer_id = c.id
       WHERE c.deleted_at IS NULL ORDER BY random() LIMIT $1`,
      [tokens],
    );
    const customers = chosen.rows.map((r) => ({ id: r.id, token: newToken(), contactId: r.contact_id }));
    await client.query(
      `INSERT INTO sessions (token_hash, customer_id, expires_at)
       SELECT hash, id, now() + interval '30 days' FROM unnest($1::text[], $2::int[]) AS t(hash, id)`,
      [customers.map((c) => sha256(c.token)), customers.map((c) => c.id)],
    );
    const tokenOf = new Map(customers.map((c) => [c.id, c.token]));

    const ids = async (sql: string, params: unknown[] = []) =>
      (await client.query<{ id: number }>(sql, params)).rows.map((r) => r.id);
    const productIds = await ids('SELECT id FROM products ORDER BY random() LIMIT $1', [SAMPLE]);
    const orderableIds = await ids(
      'SELECT id FROM products WHERE active AND stock >= 1000000 ORDER BY random() LIMIT $1',
      [SAMPLE],
    );
    const orders = await client.query<{ id: number; customer_id: number }>(
      'SELECT id, customer_id FROM orders WHERE customer_id = ANY($1) ORDER BY random() LIMIT $2',
      [customers.map((c) => c.id), SAMPLE],
    );
    const quantiles = await client.query<{ q: number[] }>(
      `SELECT percentile_disc(ARRAY(SELECT g / 100.0 FROM generate_series(0, 100) g)) WITHIN GROUP (ORDER BY price) q
       FROM products WHERE active`,
    );
    return {
      productIds,
      orderableIds,
      customers,
      orders: orders.rows.map((o) => ({ id: o.id, token: tokenOf.get(o.customer_id)! })),
      priceQuantiles: quantiles.rows[0]!.q,
    };
  } finally {
    await client.end();
  }
}
