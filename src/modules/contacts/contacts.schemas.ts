import { Type, type Static } from '@sinclair/typebox';

const Line = (maxLength: number) => Type.String({ minLength: 1, maxLength, pattern: '\\S' });
const Optional = (maxLength: number) => Type.Optional(Type.Union([Line(maxLength), Type.Null()]));
const Phone = Type.String({
  minLength: 3,
  maxLength: 32,
  pattern: '^\\+?[0-9(][0-9 ().-]*[0-9]$',
  description: 'digits, optionally with a leading +, spaces, dots, dashes and parentheses',
});

const fields = {
  address_line1: Line(200),
  address_line2: Optional(200),
  city: Line(100),
  state: Optional(100),
  postal_code: Optional(20),
  country: Optional(100),
  phone_number: Type.Optional(Type.Union([Phone, Type.Null()])),
};

export const CreateContactBody = Type.Object(fields, { additionalProperties: false });
export type CreateContactBody = Static<typeof CreateContactBody>;

export const UpdateContactBody = Type.Object(
  {
    ...fields,
    address_line1: Type.Optional(fields.address_line1),
    city: Type.Optional(fields.city),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateContactBody = Static<typeof UpdateContactBody>;

const Nullable = Type.Union([Type.String(), Type.Null()]);

export const Contact = Type.Object({
  id: Type.Integer(),
  address_line1: Type.String(),
  address_line2: Nullable,
  city: Type.String(),
  state: Nullable,
  postal_code: Nullable,
  country: Nullable,
  phone_number: Nullable,
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});
export type Contact = Static<typeof Contact>;
