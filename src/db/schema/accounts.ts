import { sql } from 'drizzle-orm';
import { boolean, check, index, integer, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { timestamps } from './columns.js';
import { customers } from './customers.js';

/** Store staff: separate from customers, never listed by /customers, logging in through the same endpoint. */
export const staff = pgTable(
  'staff',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    username: text('username').notNull(),
    emailId: text('email_id').notNull(),
    passwordHash: text('password_hash').notNull(),
    disabled: boolean('disabled').notNull().default(false),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('staff_username_lower_key').on(sql`lower(${t.username})`),
    uniqueIndex('staff_email_id_lower_key').on(sql`lower(${t.emailId})`),
  ],
);

/**
 * One row per live account of either kind, so a username or email_id is unique across customers and staff
 * by a plain unique constraint, race-free, instead of a check in application code.
 */
export const loginNames = pgTable(
  'login_names',
  {
    usernameLower: text('username_lower').notNull().unique('login_names_username_key'),
    emailLower: text('email_lower').notNull().unique('login_names_email_key'),
    customerId: integer('customer_id')
      .unique('login_names_customer_id_key')
      .references(() => customers.id, { onDelete: 'cascade' }),
    staffId: integer('staff_id')
      .unique('login_names_staff_id_key')
      .references(() => staff.id, { onDelete: 'cascade' }),
  },
  (t) => [check('login_names_one_owner', sql`(${t.customerId} IS NULL) <> (${t.staffId} IS NULL)`)],
);

/** Bearer tokens, stored only as their SHA-256, so a database dump cannot be replayed as logins. */
export const sessions = pgTable(
  'sessions',
  {
    tokenHash: text('token_hash').primaryKey(),
    customerId: integer('customer_id').references(() => customers.id, { onDelete: 'cascade' }),
    staffId: integer('staff_id').references(() => staff.id, { onDelete: 'cascade' }),
    expiresAt: timestamp('expires_at', { withTimezone: true, precision: 3, mode: 'date' }).notNull(),
    createdAt: timestamps.createdAt,
  },
  (t) => [
    check('sessions_one_owner', sql`(${t.customerId} IS NULL) <> (${t.staffId} IS NULL)`),
    index('sessions_customer_id_idx').on(t.customerId),
    index('sessions_staff_id_idx').on(t.staffId),
    index('sessions_expires_at_idx').on(t.expiresAt),
  ],
);

/** Failed logins, keyed by "user:<name>" and "ip:<address>", counted over a sliding window. */
export const loginFailures = pgTable(
  'login_failures',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    key: text('key').notNull(),
    failedAt: timestamp('failed_at', { withTimezone: true, precision: 3, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [index('login_failures_key_failed_at_idx').on(t.key, t.failedAt)],
);
