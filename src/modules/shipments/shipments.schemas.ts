import { Type, type Static } from '@sinclair/typebox';
import { SHIPMENT_STATUSES } from '../../db/schema/index.js';
import { Id } from '../../lib/ids.js';

export const ShipmentStatus = Type.Union(SHIPMENT_STATUSES.map((s) => Type.Literal(s)));

export const Carrier = Type.String({
  pattern: '^[a-z0-9_-]{1,50}$',
  description: 'lowercase letters, digits, - and _, up to 50 (ups, dhl-express, other…)',
});

const Text = (maxLength: number) => Type.String({ minLength: 1, maxLength });
const NullableText = (maxLength: number) => Type.Union([Text(maxLength), Type.Null()]);

export const ItemQuantities = Type.Array(
  Type.Object(
    { order_item_id: Id, quantity: Type.Integer({ minimum: 1, maximum: 1000 }) },
    { additionalProperties: false },
  ),
  { minItems: 1, maxItems: 100 },
);

export const CreateShipmentBody = Type.Object(
  {
    carrier: Carrier,
    tracking_number: Type.String({
      minLength: 1,
      maxLength: 100,
      pattern: '\\S',
      description: 'unique per carrier: a number already taken answers 409',
    }),
    tracking_url: Type.Optional(NullableText(2000)),
    items: Type.Optional(
      Type.Array(ItemQuantities.items, {
        minItems: 1,
        maxItems: 100,
        description: 'what goes in this parcel; by default everything not yet shipped',
      }),
    ),
  },
  { additionalProperties: false },
);
export type CreateShipmentBody = Static<typeof CreateShipmentBody>;

export const EventBody = Type.Object(
  {
    id: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: 'a repeated id changes nothing; made up when absent' }),
    ),
    status: ShipmentStatus,
    occurred_at: Type.String({ format: 'date-time' }),
    location: Type.Optional(NullableText(500)),
    description: Type.Optional(NullableText(2000)),
  },
  { additionalProperties: false },
);
export type EventBody = Static<typeof EventBody>;

export const CarrierEventBody = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 200, description: "the carrier's event id; a repeat changes nothing" }),
    tracking_number: Type.String({ minLength: 1, maxLength: 100 }),
    status: ShipmentStatus,
    occurred_at: Type.String({ format: 'date-time' }),
    location: Type.Optional(NullableText(500)),
    description: Type.Optional(NullableText(2000)),
  },
  {
    description:
      'signed with Store-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>"> keyed with CARRIER_WEBHOOK_SECRET',
  },
);
export type CarrierEventBody = Static<typeof CarrierEventBody>;

export const ShipmentEvent = Type.Object({
  id: Type.String(),
  status: ShipmentStatus,
  occurred_at: Type.String({ format: 'date-time' }),
  location: Type.Union([Type.String(), Type.Null()]),
  description: Type.Union([Type.String(), Type.Null()]),
});

export const Shipment = Type.Object({
  id: Type.Integer(),
  order_id: Type.Integer(),
  carrier: Type.String(),
  tracking_number: Type.Union([Type.String(), Type.Null()], {
    description: 'null only for parcels made by moving the order to shipped (carrier "other")',
  }),
  tracking_url: Type.Union([Type.String(), Type.Null()]),
  status: Type.Union(
    SHIPMENT_STATUSES.map((s) => Type.Literal(s)),
    {
      description: 'the status of the latest event by occurred_at',
    },
  ),
  items: Type.Array(Type.Object({ order_item_id: Type.Integer(), quantity: Type.Integer() })),
  created_at: Type.String({ format: 'date-time' }),
  events: Type.Array(ShipmentEvent, { description: 'oldest occurred_at first' }),
});
export type Shipment = Static<typeof Shipment>;

export const CarrierParams = Type.Object({ carrier: Carrier }, { additionalProperties: false });
