import { timestamp } from 'drizzle-orm/pg-core';

// Millisecond precision so a timestamp survives the round trip through a JS Date (keyset cursors rely on it).
export const timestamps = {
  createdAt: timestamp('created_at', { withTimezone: true, precision: 3, mode: 'date' }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3, mode: 'date' }).notNull().defaultNow(),
};
