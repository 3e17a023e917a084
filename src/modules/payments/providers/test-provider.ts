import { randomUUID } from 'node:crypto';
import { InvalidPaymentMethod, InvalidSignature, type PaymentProvider, type WebhookEvent } from './provider.js';
import { verifySignature } from './signature.js';

const DECLINES: Record<string, string> = {
  pm_card_declined: 'the card was declined',
  pm_card_insufficient_funds: 'the card has insufficient funds',
};

/** The built-in sandbox gateway: the payment method decides the outcome, and no network is involved. */
export function createTestProvider(webhookSecret: string): PaymentProvider {
  const reference = () => `test_${randomUUID()}`;
  return {
    name: 'test',
    staffOnly: false,
    needsPaymentMethod: true,
    async attempt({ paymentMethod, capture }) {
      if (paymentMethod === 'pm_card_ok')
        return { status: capture ? 'captured' : 'authorized', reference: reference() };
      if (paymentMethod === 'pm_card_async') return { status: 'pending', reference: reference() };
      const decline = paymentMethod ? DECLINES[paymentMethod] : undefined;
      if (decline) return { status: 'declined', reference: reference(), reason: decline };
      throw new InvalidPaymentMethod(
        'payment_method must be pm_card_ok, pm_card_declined, pm_card_insufficient_funds or pm_card_async',
      );
    },
    async capture() {},
    async void() {},
    async refund() {
      return { reference: `test_refund_${randomUUID()}` };
    },
    parseWebhook(rawBody, headers): WebhookEvent {
      verifySignature(rawBody, headers['store-signature'], webhookSecret);
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(rawBody) as Record<string, unknown>;
      } catch {
        throw new InvalidSignature('the body is not JSON');
      }
      if (typeof body !== 'object' || body === null || typeof body.id !== 'string' || typeof body.type !== 'string') {
        throw new InvalidSignature('an event needs a string id and type');
      }
      return {
        id: body.id,
        type: body.type,
        providerReference: typeof body.provider_reference === 'string' ? body.provider_reference : null,
        amount: Number.isSafeInteger(body.amount) ? (body.amount as number) : null,
        refundReference: typeof body.refund_reference === 'string' ? body.refund_reference : null,
      };
    },
  };
}
