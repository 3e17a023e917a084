import { and, asc, eq, gt, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { contacts, customerContacts } from '../../db/schema/index.js';

export type ContactRow = typeof contacts.$inferSelect;
export type ContactWrite = Partial<Omit<typeof contacts.$inferInsert, 'id' | 'createdAt' | 'updatedAt'>>;

export async function findContact(db: Db, id: number): Promise<ContactRow | undefined> {
  const [row] = await db.select().from(contacts).where(eq(contacts.id, id));
  return row;
}

export function listContacts(db: Db, afterId: number | undefined, take: number): Promise<ContactRow[]> {
  return db
    .select()
    .from(contacts)
    .where(afterId === undefined ? undefined : gt(contacts.id, afterId))
    .orderBy(asc(contacts.id))
    .limit(take);
}

export async function listContactsOfCustomer(
  db: Db,
  customerId: number,
  afterId: number | undefined,
  take: number,
): Promise<ContactRow[]> {
  const rows = await db
    .select({ contact: contacts })
    .from(customerContacts)
    .innerJoin(contacts, eq(contacts.id, customerContacts.contactId))
    .where(
      and(
        eq(customerContacts.customerId, customerId),
        afterId === undefined ? undefined : gt(customerContacts.contactId, afterId),
      ),
    )
    .orderBy(asc(customerContacts.contactId))
    .limit(take);
  return rows.map((r) => r.contact);
}

export async function findLinkedContact(
  db: Db,
  customerId: number,
  contactId: number,
): Promise<ContactRow | undefined> {
  const [row] = await db
    .select({ contact: contacts })
    .from(customerContacts)
    .innerJoin(contacts, eq(contacts.id, customerContacts.contactId))
    .where(and(eq(customerContacts.customerId, customerId), eq(customerContacts.contactId, contactId)));
  return row?.contact;
}

export async function insertContact(db: Db, values: typeof contacts.$inferInsert): Promise<ContactRow> {
  const [row] = await db.insert(contacts).values(values).returning();
  return row!;
}

export async function updateContact(db: Db, id: number, values: ContactWrite): Promise<ContactRow | undefined> {
  const [row] = await db
    .update(contacts)
    .set({ ...values, updatedAt: sql`now()` })
    .where(eq(contacts.id, id))
    .returning();
  return row;
}

/** Links go with the contact (ON DELETE CASCADE); orders keep their own copy of the address. */
export async function deleteContact(db: Db, id: number): Promise<boolean> {
  const rows = await db.delete(contacts).where(eq(contacts.id, id)).returning({ id: contacts.id });
  return rows.length > 0;
}

export async function linkToCustomer(db: Db, customerId: number, contactId: number): Promise<void> {
  await db.insert(customerContacts).values({ customerId, contactId }).onConflictDoNothing();
}

export async function unlinkFromCustomer(db: Db, customerId: number, contactId: number): Promise<void> {
  await db
    .delete(customerContacts)
    .where(and(eq(customerContacts.customerId, customerId), eq(customerContacts.contactId, contactId)));
}

export async function countLinks(db: Db, contactId: number): Promise<number> {
  const [row] = await db
    .select({ count: sql<number>`count(*)::int` })
    .from(customerContacts)
    .where(eq(customerContacts.contactId, contactId));
  return row?.count ?? 0;
}

export async function lockContact(db: Db, id: number): Promise<ContactRow | undefined> {
  const [row] = await db.select().from(contacts).where(eq(contacts.id, id)).for('update');
  return row;
}
