import { and, asc, eq, gt, inArray, isNull, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { prepared } from '../../db/prepared.js';
import { contacts, customerContacts, customers, orders } from '../../db/schema/index.js';

export type CustomerRow = typeof customers.$inferSelect;
export type CustomerWrite = Partial<
  Pick<CustomerRow, 'username' | 'passwordHash' | 'emailId' | 'firstName' | 'lastName'>
>;

const live = isNull(customers.deletedAt);

export async function findLiveCustomer(db: Db, id: number, forUpdate = false): Promise<CustomerRow | undefined> {
  if (forUpdate) {
    const [locked] = await db
      .select()
      .from(customers)
      .where(and(eq(customers.id, id), live))
      .for('update');
    return locked;
  }
  const query = prepared(db, 'customer_by_id', (d) =>
    d
      .select()
      .from(customers)
      .where(and(eq(customers.id, sql.placeholder('id')), live))
      .prepare('customer_by_id'),
  );
  const [row] = await query.execute({ id });
  return row;
}

export function listLiveCustomers(db: Db, afterId: number | undefined, take: number): Promise<CustomerRow[]> {
  return db
    .select()
    .from(customers)
    .where(afterId === undefined ? live : and(live, gt(customers.id, afterId)))
    .orderBy(asc(customers.id))
    .limit(take);
}

/** Linked contact ids for many customers in one query, so a page costs the same whatever its size. */
export async function contactIdsByCustomer(db: Db, customerIds: number[]): Promise<Map<number, number[]>> {
  const result = new Map<number, number[]>(customerIds.map((id) => [id, []]));
  if (customerIds.length === 0) return result;
  const rows =
    customerIds.length === 1
      ? await contactIdsOfOne(db, customerIds[0]!)
      : await db
          .select({ customerId: customerContacts.customerId, contactId: customerContacts.contactId })
          .from(customerContacts)
          .where(inArray(customerContacts.customerId, customerIds))
          .orderBy(asc(customerContacts.contactId));
  for (const row of rows) result.get(row.customerId)?.push(row.contactId);
  return result;
}

export async function existingContactIds(db: Db, ids: number[]): Promise<Set<number>> {
  if (ids.length === 0) return new Set();
  const rows = await db.select({ id: contacts.id }).from(contacts).where(inArray(contacts.id, ids));
  return new Set(rows.map((r) => r.id));
}

export async function insertCustomer(db: Db, values: Required<CustomerWrite>): Promise<CustomerRow> {
  const [row] = await db
    .insert(customers)
    .values(values as typeof customers.$inferInsert)
    .returning();
  return row!;
}

export async function updateCustomer(db: Db, id: number, values: CustomerWrite): Promise<CustomerRow> {
  const [row] = await db
    .update(customers)
    .set({ ...values, updatedAt: sql`now()` })
    .where(eq(customers.id, id))
    .returning();
  return row!;
}

export async function linkContacts(db: Db, customerId: number, contactIds: number[]): Promise<void> {
  if (contactIds.length === 0) return;
  await db
    .insert(customerContacts)
    .values(contactIds.map((contactId) => ({ customerId, contactId })))
    .onConflictDoNothing();
}

export async function unlinkAllContacts(db: Db, customerId: number): Promise<void> {
  await db.delete(customerContacts).where(eq(customerContacts.customerId, customerId));
}

export async function unlinkContact(db: Db, customerId: number, contactId: number): Promise<boolean> {
  const rows = await db
    .delete(customerContacts)
    .where(and(eq(customerContacts.customerId, customerId), eq(customerContacts.contactId, contactId)))
    .returning({ contactId: customerContacts.contactId });
  return rows.length > 0;
}

export async function touchCustomer(db: Db, id: number): Promise<void> {
  await db
    .update(customers)
    .set({ updatedAt: sql`now()` })
    .where(eq(customers.id, id));
}

export async function hasOrders(db: Db, customerId: number): Promise<boolean> {
  const rows = await db.select({ id: orders.id }).from(orders).where(eq(orders.customerId, customerId)).limit(1);
  return rows.length > 0;
}

export async function deleteCustomerRow(db: Db, id: number): Promise<void> {
  await db.delete(customers).where(eq(customers.id, id));
}

/** Keeps the row (orders point at it) but erases everything that identifies the person. */
export async function eraseCustomer(db: Db, id: number): Promise<void> {
  await db
    .update(customers)
    .set({
      username: null,
      passwordHash: null,
      emailId: null,
      firstName: null,
      lastName: null,
      deletedAt: sql`now()`,
      updatedAt: sql`now()`,
    })
    .where(eq(customers.id, id));
}

export async function findLiveCustomerByLogin(db: Db, login: string): Promise<CustomerRow | undefined> {
  const lower = login.toLowerCase();
  const column = login.includes('@') ? customers.emailId : customers.username;
  const [row] = await db
    .select()
    .from(customers)
    .where(and(eq(sql`lower(${column})`, lower), live));
  return row;
}

function contactIdsOfOne(db: Db, customerId: number) {
  return prepared(db, 'contact_ids_of_customer', (d) =>
    d
      .select({ customerId: customerContacts.customerId, contactId: customerContacts.contactId })
      .from(customerContacts)
      .where(eq(customerContacts.customerId, sql.placeholder('id')))
      .orderBy(asc(customerContacts.contactId))
      .prepare('contact_ids_of_customer'),
  ).execute({ id: customerId });
}
