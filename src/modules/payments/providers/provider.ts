/** What a gateway answered to an attempt to take money. */
export type AttemptOutcome =
  | { status: 'captured' | 'authorized' | 'pending'; reference: string }
  | { status: 'declined'; reference: string | null; reason: string };

/** One event a gateway reported through its webhook, already verified. */
export type WebhookEvent = {
  id: string;
  /** payment.succeeded, payment.failed or refund.succeeded; anything else is recorded and ignored. */
  type: string;
  providerReference: string | null;
  amount: number | null;
  refundReference: string | null;
};

/**
 * A payment gateway behind one small interface, so the payments service never knows which one it talks to.
 * Every call may throw a ProviderUnavailable when the gateway cannot be reached.
 */
export interface PaymentProvider {
  readonly name: string;
  /** Staff only (money taken outside the store). */
  readonly staffOnly: boolean;
  readonly needsPaymentMethod: boolean;
  attempt(input: {
    amount: number;
    currency: string;
    paymentMethod: string | null;
    capture: boolean;
    idempotencyKey: string;
  }): Promise<AttemptOutcome>;
  capture(reference: string, amount: number): Promise<void>;
  void(reference: string): Promise<void>;
  refund(reference: string, amount: number, reason: string | null): Promise<{ reference: string }>;
  /** Undefined when this provider has no webhooks; throws InvalidSignature for a bad one. */
  parseWebhook?(
    rawBody: string,
    headers: Record<string, string | string[] | undefined>,
  ): WebhookEvent | Promise<WebhookEvent>;
}

export class InvalidSignature extends Error {
  override name = 'InvalidSignature';
}

export class InvalidPaymentMethod extends Error {
  override name = 'InvalidPaymentMethod';
}
