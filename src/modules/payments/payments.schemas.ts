import { Type, type Static } from '@sinclair/typebox';
import { PAYMENT_STATUSES } from '../../db/schema/index.js';
import { Id } from '../../lib/ids.js';

const Amount = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'minor units, above 0' });

export const CreatePaymentBody = Type.Object(
  {
    provider: Type.String({ minLength: 1, maxLength: 50, description: 'test, manual (staff only) or stripe' }),
    payment_method: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    amount: Type.Optional(Amount),
    currency: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$' })),
    capture: Type.Optional(Type.Boolean({ description: 'false only authorizes; default true' })),
  },
  { additionalProperties: false },
);
export type CreatePaymentBody = Static<typeof CreatePaymentBody>;

export const CaptureBody = Type.Object(
  { amount: Type.Optional(Amount) },
  { additionalProperties: false, description: 'a smaller amount releases the rest of the authorization' },
);

export const RefundBody = Type.Object(
  { amount: Amount, reason: Type.String({ minLength: 1, maxLength: 500 }) },
  { additionalProperties: false },
);

export const Payment = Type.Object({
  id: Type.Integer(),
  order_id: Type.Integer(),
  provider: Type.String(),
  amount: Type.Integer(),
  currency: Type.String(),
  status: Type.Union(PAYMENT_STATUSES.map((s) => Type.Literal(s))),
  amount_captured: Type.Integer(),
  amount_refunded: Type.Integer(),
  provider_reference: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
  refunds: Type.Array(
    Type.Object({
      id: Type.Integer(),
      amount: Type.Integer(),
      reason: Type.Union([Type.String(), Type.Null()]),
      provider_reference: Type.Union([Type.String(), Type.Null()]),
      created_at: Type.String({ format: 'date-time' }),
    }),
  ),
  events: Type.Array(
    Type.Object({
      id: Type.String(),
      type: Type.String(),
      received_at: Type.String({ format: 'date-time' }),
      applied: Type.Boolean(),
    }),
  ),
});
export type Payment = Static<typeof Payment>;

export const ProviderParams = Type.Object(
  { provider: Type.String({ maxLength: 50 }) },
  { additionalProperties: false },
);
export const PaymentIdParams = Type.Object({ id: Id }, { additionalProperties: false });
