import { randomUUID } from 'node:crypto';
import type { PaymentProvider } from './provider.js';

/** Money taken outside the store (a bank transfer, cash): staff record it as arrived. No gateway, no webhooks. */
export const manualProvider: PaymentProvider = {
  name: 'manual',
  staffOnly: true,
  needsPaymentMethod: false,
  async attempt({ capture }) {
    return { status: capture ? 'captured' : 'authorized', reference: `manual_${randomUUID()}` };
  },
  async capture() {},
  async void() {},
  async refund() {
    return { reference: `manual_refund_${randomUUID()}` };
  },
};
