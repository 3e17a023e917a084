import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { timestamps } from './columns.js';
import { contacts } from './contacts.js';

export const customers = pgTable(
  'customers',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    // Personal fields are nullable only so that a deleted customer with orders can be erased in place.
    username: text('username'),
    passwordHash: text('password_hash'),
    emailId: text('email_id'),
    firstName: text('first_name'),
    lastName: text('last_name'),
    deletedAt: timestamp('deleted_at', { withTimezone: true, precision: 3, mode: 'date' }),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('customers_username_lower_key').on(sql`lower(${t.username})`),
    uniqueIndex('customers_email_id_lower_key').on(sql`lower(${t.emailId})`),
    check(
      'customers_live_fields_present',
      sql`${t.deletedAt} IS NOT NULL OR (${t.username} IS NOT NULL AND ${t.passwordHash} IS NOT NULL AND ${t.emailId} IS NOT NULL AND ${t.firstName} IS NOT NULL AND ${t.lastName} IS NOT NULL)`,
    ),
  ],
);

export const customerContacts = pgTable(
  'customer_contacts',
  {
    customerId: integer('customer_id')
      .notNull()
      .references(() => customers.id, { onDelete: 'cascade' }),
    contactId: integer('contact_id')
      .notNull()
      .references(() => contacts.id, { onDelete: 'cascade' }),
    createdAt: timestamps.createdAt,
  },
  (t) => [
    primaryKey({ columns: [t.customerId, t.contactId] }),
    index('customer_contacts_contact_id_idx').on(t.contactId),
  ],
);
