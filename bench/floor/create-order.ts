import type pg from 'pg';
import { badInput, HttpError } from './respond.js';
import { moneyOf, toOrder, type Actor, type Address, type HistoryRow, type ItemRow, type OrderRow } from './reads.js';

type Line = { product_id: number; quantity: number };
type Input = { customer_id?: number; items: Line[]; shipping_contact_id?: number | null };

const isId = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 2 ** 31 - 1;

function parse(body: unknown): Input {
  const input = body as Partial<Input> | null;
  const items = input?.items;
  const valid =
    Array.isArray(items) &&
    items.length >= 1 &&
    items.length <= 100 &&
    items.every((i) => isId(i?.product_id) && Number.isInteger(i.quantity) && i.quantity >= 1 && i.quantity <= 1000);
  if (!valid) throw badInput('VALIDATION_FAILED', 'items must be 1–100 {product_id, quantity}');
  if (new Set(items.map((i) => i.product_id)).size !== items.length) {
    throw badInput('DUPLICATE_ITEM', 'a product appears more than once');
  }
  return input as Input;
}

const RETRYABLE = new Set(['40001', '40P01']);

/** POST /orders: the same rows as the app, in one transaction, stock taken in product-id order. */
export async function createOrder(pool: pg.Pool, body: unknown, actor: Actor) {
  const input = parse(body);
  const customerId = input.customer_id ?? actor.customerId;
  if (customerId === null || (actor.customerId !== null && customerId !== actor.customerId)) {
    throw badInput('CUSTOMER_NOT_FOUND', 'customer_id is required or does not exist');
  }
  const by = actor.customerId !== null ? `customer:${actor.customerId}` : `staff:${actor.staffId}`;
  const client = await pool.connect();
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        await client.query('BEGIN');
        const order = await place(client, customerId, input, by);
        await client.query('COMMIT');
        return order;
      } catch (error) {
        await client.query('ROLLBACK');
        if (attempt >= 5 || !RETRYABLE.has((error as { code?: string }).code ?? '')) throw error;
      }
    }
  } finally {
    client.release();
  }
}

async function place(client: pg.PoolClient, customerId: number, input: Input, by: string) {
  const customer = await client.query('SELECT 1 FROM customers WHERE id = $1 AND deleted_at IS NULL', [customerId]);
  if (customer.rowCount === 0) throw badInput('CUSTOMER_NOT_FOUND', `customer ${customerId} does not exist`);
  const contactId = input.shipping_contact_id ?? null;
  let address: Address | null = null;
  if (contactId !== null) {
    const { rows } = await client.query<Address>(
      `SELECT c.address_line1, c.address_line2, c.city, c.state, c.postal_code, c.country, c.phone_number
       FROM customer_contacts cc JOIN contacts c ON c.id = cc.contact_id
       WHERE cc.customer_id = $1 AND cc.contact_id = $2`,
      [customerId, contactId],
    );
    if (!rows[0]) throw badInput('CONTACT_NOT_FOUND', `contact ${contactId} is not linked to the customer`);
    address = rows[0];
  }

  const ids = input.items.map((i) => i.product_id);
  const known = await client.query<{ id: number; currency: string; active: boolean }>(
    'SELECT id, currency, active FROM products WHERE id = ANY($1)',
    [ids],
  );
  if (known.rows.length !== ids.length) throw badInput('PRODUCT_NOT_FOUND', 'items name products that do not exist');
  if (known.rows.some((p) => !p.active)) throw new HttpError(409, 'PRODUCT_UNAVAILABLE', 'archived products');
  if (new Set(known.rows.map((p) => p.currency)).size > 1) throw badInput('MIXED_CURRENCIES', 'mixed currencies');

  const prices = new Map<number, { price: number; currency: string }>();
  for (const line of [...input.items].sort((a, b) => a.product_id - b.product_id)) {
    const { rows } = await client.query<{ price: number; currency: string }>(
      `UPDATE products SET stock = stock - $2, updated_at = now()
       WHERE id = $1 AND stock >= $2 AND active RETURNING price, currency`,
      [line.product_id, line.quantity],
    );
    if (rows[0]) prices.set(line.product_id, rows[0]);
  }
  if (prices.size !== ids.length) throw new HttpError(409, 'INSUFFICIENT_STOCK', 'not enough stock for some items');

  const lines = input.items.map((i) => ({ ...i, unit_price: prices.get(i.product_id)!.price }));
  const subtotal = lines.reduce((sum, l) => sum + l.unit_price * l.quantity, 0);
  const inserted = await client.query<OrderRow>(
    `INSERT INTO orders (customer_id, status, shipping_contact_id, shipping_address, subtotal, total, currency)
     VALUES ($1, 'pending', $2, $3, $4, $4, $5)
     RETURNING id, customer_id, status, shipping_contact_id, shipping_address, subtotal, total, currency,
               fulfillment_status, delivered_at, created_at, updated_at`,
    [customerId, contactId, address && JSON.stringify(address), subtotal, prices.get(ids[0]!)!.currency],
  );
  const order = inserted.rows[0]!;
  const items = await client.query<ItemRow>(
    `INSERT INTO order_items (order_id, product_id, quantity, unit_price, line_total)
     SELECT $1, p, q, u, u::bigint * q FROM unnest($2::int[], $3::int[], $4::int[]) AS t(p, q, u)
     RETURNING id, product_id, quantity, unit_price, line_total`,
    [order.id, ids, lines.map((l) => l.quantity), lines.map((l) => l.unit_price)],
  );
  await client.query(
    `INSERT INTO inventory_movements (product_id, quantity, type, order_id, actor)
     SELECT p, -q, 'order', $1, $2 FROM unnest($3::int[], $4::int[]) AS t(p, q)`,
    [order.id, by, ids, lines.map((l) => l.quantity)],
  );
  const history = await client.query<HistoryRow>(
    `INSERT INTO order_status_history (order_id, status, by) VALUES ($1, 'pending', $2) RETURNING status, created_at, by`,
    [order.id, by],
  );
  const sorted = items.rows.sort((a, b) => a.id - b.id);
  return toOrder(order, sorted, history.rows, await moneyOf(client, order.id));
}
