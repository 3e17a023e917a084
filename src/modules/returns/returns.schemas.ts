import { Type, type Static } from '@sinclair/typebox';
import { RETURN_STATUSES } from '../../db/schema/index.js';
import { ItemQuantities } from '../shipments/shipments.schemas.js';

export const CreateReturnBody = Type.Object(
  {
    items: ItemQuantities,
    reason: Type.String({ minLength: 1, maxLength: 500, pattern: '\\S' }),
  },
  { additionalProperties: false },
);
export type CreateReturnBody = Static<typeof CreateReturnBody>;

export const Return = Type.Object({
  id: Type.Integer(),
  order_id: Type.Integer(),
  status: Type.Union(RETURN_STATUSES.map((s) => Type.Literal(s))),
  reason: Type.String(),
  items: Type.Array(Type.Object({ order_item_id: Type.Integer(), quantity: Type.Integer() })),
  refund_amount: Type.Integer({ description: 'quantity × unit price over the items, minor units' }),
  created_at: Type.String({ format: 'date-time' }),
});
export type Return = Static<typeof Return>;
