import { ConfigError, loadConfig } from '../src/config.js';
import { createDatabase } from '../src/db/client.js';
import { runMigrations } from '../src/db/migrate.js';
import { SYSTEM } from '../src/lib/actor.js';
import { createServices } from '../src/services.js';

// A small demo store. It goes through the services, so every rule (hashing, stock, prices) applies as over HTTP.
const PRODUCTS = [
  { sku: 'MUG-WHITE', name: 'White ceramic mug', description: '350 ml, dishwasher safe', price: 1200, stock: 40 },
  { sku: 'MUG-BLACK', name: 'Black ceramic mug', description: '350 ml, dishwasher safe', price: 1250, stock: 25 },
  { sku: 'TEE-S', name: 'Logo T-shirt, small', description: 'Organic cotton', price: 1999, stock: 15 },
  { sku: 'TEE-M', name: 'Logo T-shirt, medium', description: 'Organic cotton', price: 1999, stock: 20 },
  { sku: 'TEE-L', name: 'Logo T-shirt, large', description: 'Organic cotton', price: 1999, stock: 3 },
  { sku: 'BAG-TOTE', name: 'Canvas tote bag', description: null, price: 1500, stock: 60 },
  { sku: 'NOTE-A5', name: 'A5 dotted notebook', description: '120 pages', price: 850, stock: 100 },
  { sku: 'PEN-STEEL', name: 'Steel ballpoint pen', description: null, price: 2400, stock: 0 },
];

async function main(): Promise<void> {
  const config = loadConfig();
  const database = await createDatabase(config);
  try {
    await runMigrations(database);
    const { customers, contacts, products, orders } = createServices(database.db, config);

    const existing = await products.list({ limit: 1, q: 'MUG-WHITE', include_archived: true });
    if (existing.items.length > 0) {
      console.log('demo data is already there; nothing to do');
      return;
    }

    const home = await contacts.create(
      {
        address_line1: '221B Baker Street',
        city: 'London',
        postal_code: 'NW1 6XE',
        country: 'GB',
        phone_number: '+44 20 7946 0000',
      },
      SYSTEM,
    );
    const office = await contacts.create(
      {
        address_line1: '1 Infinite Loop',
        city: 'Cupertino',
        state: 'CA',
        postal_code: '95014',
        country: 'US',
      },
      SYSTEM,
    );
    const shared = await contacts.create(
      {
        address_line1: '742 Evergreen Terrace',
        city: 'Springfield',
        state: 'OR',
        postal_code: '97477',
        country: 'US',
        phone_number: '+1 555 0142',
      },
      SYSTEM,
    );

    const alice = await customers.create(
      {
        username: 'alice',
        password: 'alice-password',
        email_id: 'alice@example.com',
        first_name: 'Alice',
        last_name: 'Liddell',
        contact_id: [home.id, shared.id],
      },
      SYSTEM,
    );
    const bob = await customers.create(
      {
        username: 'bob',
        password: 'bob-password',
        email_id: 'bob@example.com',
        first_name: 'Bob',
        last_name: 'Builder',
        contact_id: [office.id, shared.id],
      },
      SYSTEM,
    );
    await customers.create(
      {
        username: 'carol',
        password: 'carol-password',
        email_id: 'carol@example.com',
        first_name: 'Carol',
        last_name: 'Danvers',
      },
      SYSTEM,
    );

    const catalogue: { id: number; sku: string }[] = [];
    for (const product of PRODUCTS) catalogue.push(await products.create(product, SYSTEM));
    const bySku = (sku: string) => catalogue.find((p) => p.sku === sku)!.id;

    await orders.create(
      {
        customer_id: alice.id,
        shipping_contact_id: home.id,
        items: [
          { product_id: bySku('MUG-WHITE'), quantity: 2 },
          { product_id: bySku('NOTE-A5'), quantity: 1 },
        ],
      },
      SYSTEM,
    );
    await orders.create(
      {
        customer_id: bob.id,
        shipping_contact_id: office.id,
        items: [{ product_id: bySku('TEE-M'), quantity: 1 }],
      },
      SYSTEM,
    );
    await orders.create({ customer_id: alice.id, items: [{ product_id: bySku('BAG-TOTE'), quantity: 3 }] }, SYSTEM);
    console.log(`seeded 3 customers, 3 contacts, ${catalogue.length} products and 3 orders into ${database.kind}`);
    console.log('sign-in names and passwords: alice / alice-password, bob / bob-password, carol / carol-password');
  } finally {
    await database.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? `configuration error: ${error.message}` : error);
  process.exit(1);
});
