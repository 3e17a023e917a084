import type Stripe from 'stripe';
import { InvalidPaymentMethod, InvalidSignature, type PaymentProvider, type WebhookEvent } from './provider.js';

export type StripeSettings = { secretKey: string; webhookSecret: string; apiBase: string };

/** What Stripe's own webhook events mean in our vocabulary. */
function translate(event: Stripe.Event): WebhookEvent {
  const base = { id: event.id, type: event.type, providerReference: null, amount: null, refundReference: null };
  const object = event.data.object as unknown as Record<string, unknown>;
  switch (event.type) {
    case 'payment_intent.succeeded':
      return {
        ...base,
        type: 'payment.succeeded',
        providerReference: String(object.id),
        amount: Number(object.amount),
      };
    case 'payment_intent.payment_failed':
      return { ...base, type: 'payment.failed', providerReference: String(object.id), amount: Number(object.amount) };
    case 'refund.created':
    case 'refund.updated':
      if (object.status !== 'succeeded') return base;
      return {
        ...base,
        type: 'refund.succeeded',
        providerReference: typeof object.payment_intent === 'string' ? object.payment_intent : null,
        amount: Number(object.amount),
        refundReference: String(object.id),
      };
    default:
      return base;
  }
}

/**
 * Stripe through its official SDK: a payment is a PaymentIntent confirmed at once, captured automatically or
 * held for a later capture. `apiBase` points the SDK at another host (a local stand-in in tests).
 */
export function createStripeProvider(settings: StripeSettings): PaymentProvider {
  const base = settings.apiBase ? new URL(settings.apiBase) : undefined;
  // The SDK is loaded on first use, so a store without Stripe does not carry it in memory.
  let loaded: Promise<{ stripe: Stripe; errors: typeof Stripe.errors }> | undefined;
  const sdk = () =>
    (loaded ??= import('stripe').then(({ default: StripeSdk }) => ({
      stripe: new StripeSdk(settings.secretKey, {
        maxNetworkRetries: 1,
        timeout: 10_000,
        ...(base && {
          host: base.hostname,
          port: Number(base.port || (base.protocol === 'https:' ? 443 : 80)),
          protocol: base.protocol === 'http:' ? ('http' as const) : ('https' as const),
        }),
      }),
      errors: StripeSdk.errors,
    })));

  return {
    name: 'stripe',
    staffOnly: false,
    needsPaymentMethod: true,
    async attempt({ amount, currency, paymentMethod, capture, idempotencyKey }) {
      const { stripe, errors } = await sdk();
      try {
        const intent = await stripe.paymentIntents.create(
          {
            amount,
            currency: currency.toLowerCase(),
            payment_method: paymentMethod ?? undefined,
            confirm: true,
            capture_method: capture ? 'automatic' : 'manual',
            automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
          },
          { idempotencyKey },
        );
        if (intent.status === 'succeeded') return { status: 'captured', reference: intent.id };
        if (intent.status === 'requires_capture') return { status: 'authorized', reference: intent.id };
        return { status: 'pending', reference: intent.id };
      } catch (error) {
        if (error instanceof errors.StripeCardError) {
          const intent = (error.raw as { payment_intent?: { id?: string } }).payment_intent;
          return { status: 'declined', reference: intent?.id ?? null, reason: error.message };
        }
        if (error instanceof errors.StripeInvalidRequestError && error.param === 'payment_method') {
          throw new InvalidPaymentMethod(error.message);
        }
        throw error;
      }
    },
    async capture(reference, amount) {
      const { stripe } = await sdk();
      await stripe.paymentIntents.capture(reference, { amount_to_capture: amount });
    },
    async void(reference) {
      const { stripe } = await sdk();
      await stripe.paymentIntents.cancel(reference);
    },
    async refund(reference, amount, reason) {
      const { stripe } = await sdk();
      const refund = await stripe.refunds.create({
        payment_intent: reference,
        amount,
        metadata: reason ? { reason } : undefined,
      });
      return { reference: refund.id };
    },
    async parseWebhook(rawBody, headers) {
      const { stripe } = await sdk();
      const signature = headers['stripe-signature'];
      if (typeof signature !== 'string') throw new InvalidSignature('the Stripe-Signature header is missing');
      try {
        return translate(stripe.webhooks.constructEvent(rawBody, signature, settings.webhookSecret, 300));
      } catch (error) {
        throw new InvalidSignature(error instanceof Error ? error.message : 'the Stripe signature does not verify');
      }
    },
  };
}
