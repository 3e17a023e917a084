import { integer, pgTable, text } from 'drizzle-orm/pg-core';
import { timestamps } from './columns.js';

export const contacts = pgTable('contacts', {
  id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
  addressLine1: text('address_line1').notNull(),
  addressLine2: text('address_line2'),
  city: text('city').notNull(),
  state: text('state'),
  postalCode: text('postal_code'),
  country: text('country'),
  phoneNumber: text('phone_number'),
  ...timestamps,
});
