import { Type, type Static } from '@sinclair/typebox';
import { MOVEMENT_TYPES } from '../../db/schema/index.js';
import { Id } from '../../lib/ids.js';
import { PageQuery } from '../../lib/pagination.js';

export const Movement = Type.Object({
  id: Type.Integer(),
  product_id: Type.Integer(),
  quantity: Type.Integer({ description: 'signed: negative takes stock out, positive puts it back' }),
  type: Type.Union(MOVEMENT_TYPES.map((t) => Type.Literal(t))),
  reason: Type.Union([Type.String(), Type.Null()]),
  order_id: Type.Union([Type.Integer(), Type.Null()]),
  actor: Type.String({ description: '"staff:<id>", "customer:<id>" or "system"' }),
  created_at: Type.String({ format: 'date-time' }),
});
export type Movement = Static<typeof Movement>;

export const AdjustmentBody = Type.Object(
  {
    delta: Type.Integer({
      minimum: -2_147_483_647,
      maximum: 2_147_483_647,
      not: { const: 0 },
      description: 'units to add (positive) or remove (negative)',
    }),
    reason: Type.String({ minLength: 1, maxLength: 500, pattern: '\\S' }),
  },
  { additionalProperties: false },
);
export type AdjustmentBody = Static<typeof AdjustmentBody>;

export const MovementParams = Type.Object({ id: Id, movement_id: Id }, { additionalProperties: false });

export const MovementListQuery = Type.Object(
  { limit: PageQuery.limit, cursor: Type.Optional(PageQuery.cursor) },
  { additionalProperties: false },
);

export const LowStockQuery = Type.Object(
  {
    threshold: Type.Integer({
      minimum: 0,
      maximum: 2_147_483_647,
      description: 'products with stock at or below this',
    }),
    limit: PageQuery.limit,
    cursor: Type.Optional(PageQuery.cursor),
  },
  { additionalProperties: false },
);
