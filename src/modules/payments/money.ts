import type { PaymentStatus } from '../../db/schema/index.js';

type Held = { status: PaymentStatus; amount: number; amountCaptured: number; amountRefunded: number };

/** What a payment still holds of the order's total: its amount while open, what it kept once captured. */
export function held(payment: Held): number {
  switch (payment.status) {
    case 'pending':
    case 'authorized':
      return payment.amount;
    case 'captured':
    case 'partially_refunded':
    case 'refunded':
      return payment.amountCaptured - payment.amountRefunded;
    case 'failed':
    case 'voided':
      return 0;
  }
}

export const openAmount = (total: number, payments: Held[]) => total - payments.reduce((sum, p) => sum + held(p), 0);

export type PaymentSummary = {
  amount_paid: number;
  payment_status: 'unpaid' | 'partially_paid' | 'paid' | 'partially_refunded' | 'refunded';
};

/** The order's money at a glance: captured minus refunded, and which of the five states that is. */
export function summarize(total: number, captured: number, refunded: number): PaymentSummary {
  const paid = captured - refunded;
  if (refunded === 0) {
    return {
      amount_paid: paid,
      payment_status: captured === 0 ? 'unpaid' : captured < total ? 'partially_paid' : 'paid',
    };
  }
  return { amount_paid: paid, payment_status: paid > 0 ? 'partially_refunded' : 'refunded' };
}

export const statusAfterRefund = (captured: number, refunded: number): PaymentStatus =>
  refunded >= captured ? 'refunded' : 'partially_refunded';
