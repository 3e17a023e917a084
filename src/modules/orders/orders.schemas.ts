import { Type, type Static } from '@sinclair/typebox';
import { FULFILLMENT_STATUSES, ORDER_STATUSES } from '../../db/schema/index.js';
import { Id } from '../../lib/ids.js';
import { PageQuery } from '../../lib/pagination.js';

export const OrderStatus = Type.Union(ORDER_STATUSES.map((s) => Type.Literal(s)));

export const CreateOrderBody = Type.Object(
  {
    customer_id: Type.Optional(
      Type.Integer({ ...Id, description: "required for staff; a customer's own id by default" }),
    ),
    items: Type.Array(
      Type.Object(
        { product_id: Id, quantity: Type.Integer({ minimum: 1, maximum: 1000 }) },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 100 },
    ),
    shipping_contact_id: Type.Optional(
      Type.Union([Id, Type.Null()], { description: 'a contact linked to the customer; its address is copied' }),
    ),
  },
  { additionalProperties: false },
);
export type CreateOrderBody = Static<typeof CreateOrderBody>;

const Nullable = Type.Union([Type.String(), Type.Null()]);

export const ShippingAddress = Type.Object({
  address_line1: Type.String(),
  address_line2: Nullable,
  city: Type.String(),
  state: Nullable,
  postal_code: Nullable,
  country: Nullable,
  phone_number: Nullable,
});

export const OrderItem = Type.Object({
  id: Type.Integer(),
  product_id: Type.Integer(),
  quantity: Type.Integer(),
  unit_price: Type.Integer({ description: "the product's price when ordered, minor units" }),
  line_total: Type.Integer(),
});

export const Order = Type.Object({
  id: Type.Integer(),
  customer_id: Type.Integer(),
  status: OrderStatus,
  shipping_contact_id: Type.Union([Type.Integer(), Type.Null()]),
  shipping_address: Type.Union([ShippingAddress, Type.Null()], {
    description: 'copied from the contact at order time',
  }),
  subtotal: Type.Integer(),
  total: Type.Integer(),
  currency: Type.String(),
  amount_paid: Type.Integer({ description: "captured minus refunded over the order's payments, minor units" }),
  payment_status: Type.Union(
    ['unpaid', 'partially_paid', 'paid', 'partially_refunded', 'refunded'].map((s) => Type.Literal(s)),
  ),
  fulfillment_status: Type.Union(
    FULFILLMENT_STATUSES.map((s) => Type.Literal(s)),
    { description: "shipped quantities against ordered ones, over all of the order's shipments" },
  ),
  delivered_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
    description: 'when the last parcel was delivered; null until the order is delivered',
  }),
  items: Type.Array(OrderItem),
  status_history: Type.Array(
    Type.Object({
      status: OrderStatus,
      at: Type.String({ format: 'date-time' }),
      by: Type.String({
        description: '"customer:<id>", "staff:<id>", "provider:<name>", "carrier:<name>" or "system"',
      }),
    }),
  ),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});
export type Order = Static<typeof Order>;

export const OrderListQuery = Type.Object(
  {
    limit: PageQuery.limit,
    cursor: Type.Optional(PageQuery.cursor),
    customer_id: Type.Optional(Id),
    status: Type.Optional(OrderStatus),
  },
  { additionalProperties: false },
);
export type OrderListQuery = Static<typeof OrderListQuery>;

export const CustomerOrdersQuery = Type.Object(
  { limit: PageQuery.limit, cursor: Type.Optional(PageQuery.cursor), status: Type.Optional(OrderStatus) },
  { additionalProperties: false },
);

export const UpdateOrderBody = Type.Object(
  { status: OrderStatus },
  { additionalProperties: false, description: 'staff move an order along its lifecycle' },
);
export type UpdateOrderBody = Static<typeof UpdateOrderBody>;
