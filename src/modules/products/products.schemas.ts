import { Type, type Static } from '@sinclair/typebox';
import { PageQuery } from '../../lib/pagination.js';

const MAX_INT = 2_147_483_647;
const Sku = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: '^[A-Za-z0-9._-]+$',
  description: 'unique stock-keeping unit',
});
const ProductName = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' });
const Description = Type.Union([Type.String({ maxLength: 5000 }), Type.Null()]);
const Price = Type.Integer({ minimum: 0, maximum: MAX_INT, description: 'minor currency units: 1999 is 19.99' });
const Currency = Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 code; defaults to the store currency' });
const Stock = Type.Integer({ minimum: 0, maximum: MAX_INT });

export const CreateProductBody = Type.Object(
  {
    sku: Sku,
    name: ProductName,
    description: Type.Optional(Description),
    price: Price,
    currency: Type.Optional(Currency),
    stock: Type.Optional(Stock),
    active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type CreateProductBody = Static<typeof CreateProductBody>;

export const UpdateProductBody = Type.Object(
  {
    sku: Type.Optional(Sku),
    name: Type.Optional(ProductName),
    description: Type.Optional(Description),
    price: Type.Optional(Price),
    currency: Type.Optional(Currency),
    stock: Type.Optional(Stock),
    active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateProductBody = Static<typeof UpdateProductBody>;

export const Product = Type.Object({
  id: Type.Integer(),
  sku: Type.String(),
  name: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  price: Type.Integer(),
  currency: Type.String(),
  stock: Type.Integer(),
  active: Type.Boolean(),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});
export type Product = Static<typeof Product>;

export const SORT_FIELDS = ['id', 'price', 'name', 'created_at'] as const;
export type SortField = (typeof SORT_FIELDS)[number];

export const ProductListQuery = Type.Object(
  {
    limit: PageQuery.limit,
    cursor: Type.Optional(PageQuery.cursor),
    q: Type.Optional(
      Type.String({ minLength: 1, maxLength: 100, description: 'substring of the name or sku, any case' }),
    ),
    min_price: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_INT })),
    max_price: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_INT })),
    in_stock: Type.Optional(Type.Boolean({ description: 'true: stock above 0; false: out of stock' })),
    include_archived: Type.Optional(Type.Boolean({ default: false })),
    sort: Type.Optional(
      Type.String({
        pattern: '^-?(id|price|name|created_at)(:(asc|desc))?$',
        description:
          'price, name, created_at or id; descending with a leading - (-price), :desc (price:desc) or order=desc',
      }),
    ),
    order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')])),
  },
  { additionalProperties: false },
);
export type ProductListQuery = Static<typeof ProductListQuery>;
