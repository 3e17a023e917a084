import { sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { statementIn } from '../../db/prepared.js';
import { orders, type ShippingAddress } from '../../db/schema/index.js';
import type { HistoryRow, OrderItemRow, OrderRow } from './orders.repository.js';

// Placing an order is the hot write: its statements are hand-written, built once, and few. The customer check and
// the shipping address are one query; the order, its items, their ledger movements and the first status history
// row are one more.

type AddressRow = ShippingAddress & { contact_id: number | null };

/**
 * Undefined when no live customer has this id; otherwise the address of `contactId` if that contact is linked to
 * the customer (null when it is not, or when no contact was named).
 */
export async function customerWithAddress(
  tx: Db,
  customerId: number,
  contactId: number | null,
): Promise<{ address: ShippingAddress | null } | undefined> {
  const query = statementIn<AddressRow>(
    tx,
    'place_order_customer_address',
    () => sql`SELECT k.id AS contact_id, k.address_line1, k.address_line2, k.city, k.state, k.postal_code,
        k.country, k.phone_number
      FROM customers c
      LEFT JOIN customer_contacts cc ON cc.customer_id = c.id AND cc.contact_id = ${sql.placeholder('contactId')}
      LEFT JOIN contacts k ON k.id = cc.contact_id
      WHERE c.id = ${sql.placeholder('customerId')} AND c.deleted_at IS NULL`,
  );
  const [row] = (await query.execute({ customerId, contactId })).rows;
  if (!row) return undefined;
  if (row.contact_id === null) return { address: null };
  return {
    address: {
      address_line1: row.address_line1,
      address_line2: row.address_line2,
      city: row.city,
      state: row.state,
      postal_code: row.postal_code,
      country: row.country,
      phone_number: row.phone_number,
    },
  };
}

export type PlacedLine = { productId: number; quantity: number; unitPrice: number };

export type NewOrder = {
  customerId: number;
  shippingContactId: number | null;
  shippingAddress: ShippingAddress | null;
  subtotal: number;
  currency: string;
  lines: PlacedLine[];
  /** Who placed it, as the ledger and the status history record it. */
  by: string;
};

type PlacedRow = {
  id: number;
  customer_id: number;
  status: OrderRow['status'];
  shipping_contact_id: number | null;
  shipping_address: ShippingAddress | string | null;
  subtotal: number;
  total: number;
  currency: string;
  fulfillment_status: OrderRow['fulfillmentStatus'];
  delivered_at: string | null;
  created_at: string;
  updated_at: string;
  history_id: number;
  history_at: string;
  item_id: number;
  product_id: number;
  quantity: number;
  unit_price: number;
  line_total: number;
};

// The driver hands timestamptz back as PostgreSQL's text with its offset, which Date parses (as Drizzle does).
const toDate = (text: string): Date => new Date(text);

/**
 * One statement: the pending order, its items (in line order), an `order` ledger movement per item and the
 * `pending` history row. Stock must already be taken in the same transaction.
 */
export async function insertPlacedOrder(
  tx: Db,
  input: NewOrder,
): Promise<{ order: OrderRow; items: OrderItemRow[]; history: HistoryRow }> {
  const p = (name: string) => sql.placeholder(name);
  const query = statementIn<PlacedRow>(
    tx,
    'place_order_rows',
    () => sql`WITH new_order AS (
        INSERT INTO orders (customer_id, status, shipping_contact_id, shipping_address, subtotal, total, currency)
        VALUES (${p('customerId')}, 'pending', ${p('contactId')}, ${p('address')}::jsonb, ${p('subtotal')},
          ${p('subtotal')}, ${p('currency')})
        RETURNING *
      ), lines AS (
        SELECT * FROM unnest(${p('productIds')}::int[], ${p('quantities')}::int[], ${p('unitPrices')}::int[])
          WITH ORDINALITY AS l(product_id, quantity, unit_price, n)
      ), items AS (
        INSERT INTO order_items (order_id, product_id, quantity, unit_price, line_total)
        SELECT o.id, l.product_id, l.quantity, l.unit_price, l.unit_price::bigint * l.quantity
        FROM new_order o, lines l ORDER BY l.n
        RETURNING id, product_id, quantity, unit_price, line_total
      ), movements AS (
        INSERT INTO inventory_movements (product_id, quantity, type, order_id, actor)
        SELECT l.product_id, -l.quantity, 'order', o.id, ${p('by')} FROM new_order o, lines l ORDER BY l.n
      ), history AS (
        INSERT INTO order_status_history (order_id, status, by)
        SELECT o.id, 'pending', ${p('by')} FROM new_order o
        RETURNING id, created_at
      )
      SELECT o.id, o.customer_id, o.status, o.shipping_contact_id, o.shipping_address, o.subtotal, o.total,
        o.currency, o.fulfillment_status, o.delivered_at, o.created_at, o.updated_at,
        h.id AS history_id, h.created_at AS history_at,
        i.id AS item_id, i.product_id, i.quantity, i.unit_price, i.line_total
      FROM new_order o, history h, items i
      ORDER BY i.id`,
  );
  const { rows } = await query.execute({
    customerId: input.customerId,
    contactId: input.shippingContactId,
    address: input.shippingAddress && JSON.stringify(input.shippingAddress),
    subtotal: input.subtotal,
    currency: input.currency,
    productIds: input.lines.map((l) => l.productId),
    quantities: input.lines.map((l) => l.quantity),
    unitPrices: input.lines.map((l) => l.unitPrice),
    by: input.by,
  });
  const first = rows[0]!;
  const order: OrderRow = {
    id: first.id,
    customerId: first.customer_id,
    status: first.status,
    shippingContactId: first.shipping_contact_id,
    shippingAddress: orders.shippingAddress.mapFromDriverValue(first.shipping_address) as ShippingAddress | null,
    subtotal: first.subtotal,
    total: first.total,
    currency: first.currency,
    fulfillmentStatus: first.fulfillment_status,
    deliveredAt: first.delivered_at === null ? null : toDate(first.delivered_at),
    createdAt: toDate(first.created_at),
    updatedAt: toDate(first.updated_at),
  };
  const items = rows.map((r) => ({
    id: r.item_id,
    orderId: first.id,
    productId: r.product_id,
    quantity: r.quantity,
    unitPrice: r.unit_price,
    lineTotal: r.line_total,
  }));
  const history = { id: first.history_id, orderId: first.id, status: 'pending' as const, by: input.by };
  return { order, items, history: { ...history, at: toDate(first.history_at) } };
}
