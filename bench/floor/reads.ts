import type pg from 'pg';
import { badInput, notFound } from './respond.js';

export type Actor = { customerId: number | null; staffId: number | null };

type ProductRow = {
  id: number;
  sku: string;
  name: string;
  description: string | null;
  price: number;
  currency: string;
  stock: number;
  active: boolean;
  created_at: Date;
  updated_at: Date;
};

const PRODUCT_COLUMNS = 'id, sku, name, description, price, currency, stock, active, created_at, updated_at';

const toProduct = (r: ProductRow) => ({
  ...r,
  created_at: r.created_at.toISOString(),
  updated_at: r.updated_at.toISOString(),
});

export async function getProduct(pool: pg.Pool, id: number) {
  const { rows } = await pool.query<ProductRow>(`SELECT ${PRODUCT_COLUMNS} FROM products WHERE id = $1`, [id]);
  if (!rows[0]) throw notFound('product');
  return toProduct(rows[0]);
}

const SORTS = new Set(['id', 'price', 'name', 'created_at']);
const int = (raw: string | null, name: string, fallback?: number): number | undefined => {
  if (raw === null) return fallback;
  if (!/^\d{1,10}$/.test(raw)) throw badInput('VALIDATION_FAILED', `${name} must be an integer`);
  return Number(raw);
};

/** GET /products with the filters the benchmark sends: limit, cursor, min_price, max_price, sort. */
export async function listProducts(pool: pg.Pool, query: URLSearchParams) {
  const limit = int(query.get('limit'), 'limit', 50)!;
  const [, minus, field = 'id', suffix] = /^(-?)(\w+)(?::(asc|desc))?$/.exec(query.get('sort') ?? 'id') ?? [];
  if (!SORTS.has(field)) throw badInput('VALIDATION_FAILED', 'unknown sort');
  const direction = minus === '-' ? 'desc' : (suffix ?? query.get('order') ?? 'asc');
  const where = ['active'];
  const params: unknown[] = [];
  const minPrice = int(query.get('min_price'), 'min_price');
  const maxPrice = int(query.get('max_price'), 'max_price');
  if (minPrice !== undefined) where.push(`price >= $${params.push(minPrice)}`);
  if (maxPrice !== undefined) where.push(`price <= $${params.push(maxPrice)}`);
  const cursor = query.get('cursor');
  if (cursor !== null) {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (key.length !== 4 || key[0] !== field || key[1] !== direction) throw badInput('VALIDATION_FAILED', 'cursor');
    const op = direction === 'asc' ? '>' : '<';
    const cast = field === 'created_at' ? '::timestamptz' : '';
    if (field === 'id') where.push(`id ${op} $${params.push(key[3])}`);
    else where.push(`(${field}, id) ${op} ($${params.push(key[2])}${cast}, $${params.push(key[3])})`);
  }
  const order = field === 'id' ? `id ${direction}` : `${field} ${direction}, id ${direction}`;
  const { rows } = await pool.query<ProductRow>(
    `SELECT ${PRODUCT_COLUMNS} FROM products WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT ${limit + 1}`,
    params,
  );
  const items = rows.slice(0, limit).map(toProduct);
  const last = items[items.length - 1];
  const nextCursor =
    rows.length > limit && last
      ? Buffer.from(JSON.stringify([field, direction, last[field as keyof typeof last], last.id])).toString('base64url')
      : null;
  return { items, nextCursor };
}

/** A customer sees only themselves; anyone else's id answers 404 like a missing one. */
export async function getCustomer(pool: pg.Pool, id: number, actor: Actor) {
  if (actor.customerId !== null && actor.customerId !== id) throw notFound('customer');
  const { rows } = await pool.query<{
    id: number;
    username: string;
    email_id: string;
    first_name: string;
    last_name: string;
    created_at: Date;
    updated_at: Date;
  }>(
    `SELECT id, username, email_id, first_name, last_name, created_at, updated_at
     FROM customers WHERE id = $1 AND deleted_at IS NULL`,
    [id],
  );
  const row = rows[0];
  if (!row) throw notFound('customer');
  const links = await pool.query<{ contact_id: number }>(
    'SELECT contact_id FROM customer_contacts WHERE customer_id = $1 ORDER BY contact_id',
    [id],
  );
  return {
    id: row.id,
    username: row.username,
    email_id: row.email_id,
    first_name: row.first_name,
    last_name: row.last_name,
    contact_id: links.rows.map((l) => l.contact_id),
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

export type Address = Record<
  'address_line1' | 'address_line2' | 'city' | 'state' | 'postal_code' | 'country' | 'phone_number',
  string | null
>;
export type OrderRow = {
  id: number;
  customer_id: number;
  status: string;
  shipping_contact_id: number | null;
  shipping_address: Address | null;
  subtotal: number;
  total: number;
  currency: string;
  fulfillment_status: string;
  delivered_at: Date | null;
  created_at: Date;
  updated_at: Date;
};
export type ItemRow = { id: number; product_id: number; quantity: number; unit_price: number; line_total: number };
export type HistoryRow = { status: string; created_at: Date; by: string };

// Field by field in the app's schema order: jsonb hands the address back with its keys reordered.
const addressOf = (a: Address | null): Address | null =>
  a && {
    address_line1: a.address_line1,
    address_line2: a.address_line2,
    city: a.city,
    state: a.state,
    postal_code: a.postal_code,
    country: a.country,
    phone_number: a.phone_number,
  };

export type Money = { captured: number; refunded: number };

/** amount_paid and payment_status as src/modules/payments/money.ts summarises them. */
function summarize(total: number, { captured, refunded }: Money) {
  const paid = captured - refunded;
  if (refunded === 0) {
    return {
      amount_paid: paid,
      payment_status: captured === 0 ? 'unpaid' : captured < total ? 'partially_paid' : 'paid',
    };
  }
  return { amount_paid: paid, payment_status: paid > 0 ? 'partially_refunded' : 'refunded' };
}

export async function moneyOf(db: pg.Pool | pg.PoolClient, orderId: number): Promise<Money> {
  const { rows } = await db.query<Money>(
    `SELECT coalesce(sum(amount_captured), 0)::bigint AS captured, coalesce(sum(amount_refunded), 0)::bigint AS refunded
     FROM payments WHERE order_id = $1`,
    [orderId],
  );
  return rows[0]!;
}

export const toOrder = (o: OrderRow, items: ItemRow[], history: HistoryRow[], money: Money) => ({
  id: o.id,
  customer_id: o.customer_id,
  status: o.status,
  shipping_contact_id: o.shipping_contact_id,
  shipping_address: addressOf(o.shipping_address),
  subtotal: o.subtotal,
  total: o.total,
  currency: o.currency,
  ...summarize(o.total, money),
  fulfillment_status: o.fulfillment_status,
  delivered_at: o.delivered_at && o.delivered_at.toISOString(),
  items: items.map((i) => ({ ...i })),
  status_history: history.map((h) => ({ status: h.status, at: h.created_at.toISOString(), by: h.by })),
  created_at: o.created_at.toISOString(),
  updated_at: o.updated_at.toISOString(),
});

export async function getOrder(pool: pg.Pool, id: number, actor: Actor) {
  const { rows } = await pool.query<OrderRow>(
    `SELECT id, customer_id, status, shipping_contact_id, shipping_address, subtotal, total, currency,
            fulfillment_status, delivered_at, created_at, updated_at FROM orders WHERE id = $1`,
    [id],
  );
  const order = rows[0];
  if (!order || (actor.customerId !== null && order.customer_id !== actor.customerId)) throw notFound('order');
  const items = await pool.query<ItemRow>(
    'SELECT id, product_id, quantity, unit_price, line_total FROM order_items WHERE order_id = $1 ORDER BY id',
    [id],
  );
  const history = await pool.query<HistoryRow>(
    'SELECT status, created_at, by FROM order_status_history WHERE order_id = $1 ORDER BY id',
    [id],
  );
  return toOrder(order, items.rows, history.rows, await moneyOf(pool, id));
}
