import pg from 'pg';

export type Sizes = { products: number; customers: number; orders: number };

export const sizesFor = (scale: number): Sizes => ({
  products: Math.max(10, Math.round(100_000 * scale)),
  customers: Math.max(10, Math.round(20_000 * scale)),
  orders: Math.max(10, Math.round(50_000 * scale)),
});

const words = (list: string) =>
  `(ARRAY[${list
    .split(' ')
    .map((w) => `'${w}'`)
    .join(',')}])`;
const ADJECTIVES = words('Classic Modern Rustic Compact Deluxe Vintage Sleek Sturdy Handmade Organic Smart Portable');
const MATERIALS = words('Oak Steel Linen Cotton Ceramic Glass Leather Bamboo Wool Copper Marble Canvas');
const NOUNS = words('Mug Lamp Chair Notebook Backpack Jacket Kettle Blanket Bottle Clock Scarf Vase Desk Pen Tote');
const FIRST = words('Ada Alan Grace Linus Margaret Dennis Barbara Ken Frances Edsger Radia Donald Hedy Tim Joan');
const LAST = words('Lovelace Turing Hopper Torvalds Hamilton Ritchie Liskov Thompson Allen Dijkstra Perlman Knuth');
const STREETS = words('Baker Elm Maple Oak Pine Cedar Main High Church Mill Park River');
const CITIES = words('Springfield Portland Austin Denver Boston Seattle Chicago Madison Raleigh Tucson');
const STATES = words('IL OR TX CO MA WA IL WI NC AZ');

/**
 * Loads a realistic store with server-side INSERT … SELECT over generate_series, keeping every invariant the app
 * relies on: login_names for every live customer, an `initial` movement equal to each product's stock (orders
 * seeded here do not take stock, so stock stays the sum of its movements), items with unique products and
 * line_total = unit_price * quantity, order sums, and a status history row for every step an order went through.
 */
export async function seed(url: string, sizes: Sizes, passwordHash: string): Promise<void> {
  const { products: P, customers: C, orders: O } = sizes;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('SELECT setseed(0.42)'); // the same data set on every run
    await client.query(`
      INSERT INTO products (id, sku, name, description, price, currency, stock, active, created_at, updated_at)
      OVERRIDING SYSTEM VALUE
      SELECT i, 'SKU-' || lpad(i::text, 8, '0'),
        ${ADJECTIVES}[1 + i % 12] || ' ' || ${MATERIALS}[1 + (i / 12) % 12] || ' ' || ${NOUNS}[1 + (i / 144) % 15],
        CASE WHEN r1 < 0.3 THEN NULL ELSE 'A well made thing, model ' || i END,
        -- x.99 prices from 0.99 to 499.99, most of them cheap, many products sharing a price
        floor(power(r2, 2) * 500)::int * 100 + 99, 'USD',
        CASE WHEN r3 < 0.02 THEN 0 WHEN r3 < 0.10 THEN floor(r1 * 50)::int ELSE 1000000 END,
        r4 >= 0.02, born, born
      FROM (SELECT i, random() r1, random() r2, random() r3, random() r4,
                   now() - interval '400 days' - random() * interval '700 days' born
            FROM generate_series(1, ${P}) i) s`);
    await client.query(`
      INSERT INTO inventory_movements (product_id, quantity, type, actor, created_at)
      SELECT id, stock, 'initial', 'system', created_at FROM products WHERE stock <> 0 ORDER BY id`);

    await client.query(`
      INSERT INTO contacts (id, address_line1, address_line2, city, state, postal_code, country, phone_number,
                            created_at, updated_at)
      OVERRIDING SYSTEM VALUE
      SELECT i, (1 + i % 997) || ' ' || ${STREETS}[1 + i % 12] || ' Street',
        CASE WHEN random() < 0.2 THEN 'Apt ' || (1 + i % 40) END, ${CITIES}[1 + i % 10], ${STATES}[1 + i % 10],
        lpad((i % 99999)::text, 5, '0'), 'US', CASE WHEN random() < 0.7 THEN '+1 555 ' || lpad((i % 10000)::text, 4, '0') END,
        born, born
      FROM (SELECT i, now() - interval '400 days' - random() * interval '700 days' born
            FROM generate_series(1, ${C}) i) s`);
    await client.query(
      `INSERT INTO customers (id, username, password_hash, email_id, first_name, last_name, created_at, updated_at)
       OVERRIDING SYSTEM VALUE
       SELECT id, 'customer' || id, $1, 'customer' || id || '@example.com',
         ${FIRST}[1 + id % 15], ${LAST}[1 + (id / 15) % 12], created_at, created_at
       FROM contacts`,
      [passwordHash],
    );
    await client.query(`
      INSERT INTO login_names (username_lower, email_lower, customer_id)
      SELECT lower(username), lower(email_id), id FROM customers;
      INSERT INTO customer_contacts (customer_id, contact_id, created_at) SELECT id, id, created_at FROM customers`);

    // Each order: a customer, 1–5 distinct products (base + k·stride never repeats for k < 5), a status.
    await client.query(`
      CREATE TEMP TABLE plan AS
      SELECT i AS id, 1 + floor(random() * ${C})::int AS customer_id, 1 + floor(random() * 5)::int AS n_items,
        floor(random() * ${P})::int AS base,
        (ARRAY['pending','pending','pending','pending','paid','paid','paid','shipped','shipped','shipped',
               'delivered','delivered','delivered','cancelled'])[1 + floor(random() * 14)::int] AS status,
        now() - interval '4 days' - random() * interval '360 days' AS born
      FROM generate_series(1, ${O}) i;
      CREATE TEMP TABLE plan_items AS
      SELECT p.id AS order_id, k, pr.id AS product_id, q AS quantity, pr.price AS unit_price,
        pr.price::bigint * q AS line_total
      FROM (SELECT p.*, k, 1 + floor(power(random(), 3) * 4)::int AS q
            FROM plan p CROSS JOIN LATERAL generate_series(0, p.n_items - 1) k) p
      JOIN products pr ON pr.id = 1 + (p.base + k * ${Math.floor(P / 5)}) % ${P}`);
    await client.query(`
      INSERT INTO orders (id, customer_id, status, shipping_contact_id, shipping_address, subtotal, total, currency,
                          created_at, updated_at)
      OVERRIDING SYSTEM VALUE
      SELECT p.id, p.customer_id, p.status, c.id,
        jsonb_build_object('address_line1', c.address_line1, 'address_line2', c.address_line2, 'city', c.city,
          'state', c.state, 'postal_code', c.postal_code, 'country', c.country, 'phone_number', c.phone_number),
        s.sum, s.sum, 'USD', p.born,
        p.born + CASE p.status WHEN 'paid' THEN interval '1 hour' WHEN 'shipped' THEN interval '1 day'
                             WHEN 'delivered' THEN interval '3 days' WHEN 'cancelled' THEN interval '2 hours'
                             ELSE interval '0' END
      FROM plan p JOIN contacts c ON c.id = p.customer_id
      JOIN (SELECT order_id, sum(line_total) AS sum FROM plan_items GROUP BY order_id) s ON s.order_id = p.id
      ORDER BY p.id;
      INSERT INTO order_items (order_id, product_id, quantity, unit_price, line_total)
      SELECT order_id, product_id, quantity, unit_price, line_total FROM plan_items ORDER BY order_id, k;
      INSERT INTO order_status_history (order_id, status, by, created_at)
      SELECT o.id, step.status,
        CASE WHEN step.status IN ('pending', 'cancelled') THEN 'customer:' || o.customer_id ELSE 'system' END,
        o.created_at + step.after
      FROM orders o
      JOIN (VALUES ('pending', 0, interval '0'), ('paid', 1, interval '1 hour'), ('shipped', 2, interval '1 day'),
                   ('delivered', 3, interval '3 days'), ('cancelled', -1, interval '2 hours')) step(status, rank, after)
        -- every step up to the order's status; a cancelled order was pending first
        ON CASE WHEN step.rank < 0 THEN o.status = 'cancelled'
                ELSE step.rank <= CASE o.status WHEN 'paid' THEN 1 WHEN 'shipped' THEN 2 WHEN 'delivered' THEN 3 ELSE 0 END
           END
      ORDER BY o.id, step.after;
      DROP TABLE plan, plan_items;
      -- what staff marking an order paid records: a captured manual payment of its total
      INSERT INTO payments (order_id, provider, amount, currency, status, amount_captured, provider_reference,
                            created_at, updated_at)
      SELECT id, 'manual', total, currency, 'captured', total, 'seed-' || id,
        created_at + interval '1 hour', created_at + interval '1 hour'
      FROM orders WHERE status IN ('paid', 'shipped', 'delivered') ORDER BY id`);

    // Rows were given explicit ids; the app's own inserts must carry on after them.
    for (const table of ['products', 'contacts', 'customers', 'orders']) {
      await client.query(`SELECT setval(pg_get_serial_sequence('${table}', 'id'), (SELECT max(id) FROM ${table}))`);
    }
    await client.query('VACUUM ANALYZE');
  } finally {
    await client.end();
  }
}
