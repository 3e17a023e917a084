import { sql } from 'drizzle-orm';
import { bigint, boolean, check, index, integer, pgTable, text, timestamp, unique } from 'drizzle-orm/pg-core';
import { timestamps } from './columns.js';
import { orders } from './orders.js';

export const PAYMENT_STATUSES = [
  'pending',
  'authorized',
  'captured',
  'partially_refunded',
  'refunded',
  'voided',
  'failed',
] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

export const payments = pgTable(
  'payments',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    orderId: integer('order_id')
      .notNull()
      .references(() => orders.id, { onDelete: 'cascade' }),
    provider: text('provider').notNull(),
    paymentMethod: text('payment_method'),
    amount: bigint('amount', { mode: 'number' }).notNull(),
    currency: text('currency').notNull(),
    status: text('status').$type<PaymentStatus>().notNull(),
    // Whether a success should capture at once (capture: true) or only authorize.
    captureOnSuccess: boolean('capture_on_success').notNull().default(true),
    amountCaptured: bigint('amount_captured', { mode: 'number' }).notNull().default(0),
    amountRefunded: bigint('amount_refunded', { mode: 'number' }).notNull().default(0),
    providerReference: text('provider_reference'),
    failureReason: text('failure_reason'),
    ...timestamps,
  },
  (t) => [
    check(
      'payments_status_known',
      sql`${t.status} IN ('pending', 'authorized', 'captured', 'partially_refunded', 'refunded', 'voided', 'failed')`,
    ),
    check('payments_amounts_consistent', sql`${t.amount} > 0 AND ${t.amountCaptured} BETWEEN 0 AND ${t.amount}`),
    check('payments_refunds_within_capture', sql`${t.amountRefunded} BETWEEN 0 AND ${t.amountCaptured}`),
    unique('payments_provider_reference_key').on(t.provider, t.providerReference),
    index('payments_order_id_id_idx').on(t.orderId, t.id),
  ],
);

export const refunds = pgTable(
  'refunds',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    paymentId: integer('payment_id')
      .notNull()
      .references(() => payments.id, { onDelete: 'cascade' }),
    amount: bigint('amount', { mode: 'number' }).notNull(),
    reason: text('reason'),
    providerReference: text('provider_reference'),
    createdAt: timestamps.createdAt,
  },
  (t) => [
    check('refunds_amount_positive', sql`${t.amount} > 0`),
    unique('refunds_payment_reference_key').on(t.paymentId, t.providerReference),
    index('refunds_payment_id_idx').on(t.paymentId),
  ],
);

/** Every webhook event that passed its signature check, once per provider and event id. */
export const paymentEvents = pgTable(
  'payment_events',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    provider: text('provider').notNull(),
    eventId: text('event_id').notNull(),
    type: text('type').notNull(),
    paymentId: integer('payment_id').references(() => payments.id, { onDelete: 'cascade' }),
    applied: boolean('applied').notNull(),
    note: text('note'),
    receivedAt: timestamp('received_at', { withTimezone: true, precision: 3, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    unique('payment_events_provider_event_key').on(t.provider, t.eventId),
    index('payment_events_payment_id_idx').on(t.paymentId),
  ],
);
