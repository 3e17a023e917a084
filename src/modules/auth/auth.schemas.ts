import { Type, type Static } from '@sinclair/typebox';
import { Customer } from '../customers/customers.schemas.js';
import { StaffMember } from '../staff/staff.schemas.js';

export const LoginBody = Type.Object(
  {
    username: Type.Optional(Type.String({ minLength: 1, maxLength: 254, description: 'username or email_id' })),
    email_id: Type.Optional(Type.String({ minLength: 1, maxLength: 254 })),
    password: Type.String({ minLength: 1, maxLength: 1024, writeOnly: true }),
  },
  { additionalProperties: false },
);
export type LoginBody = Static<typeof LoginBody>;

export const TokenResponse = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer({ description: 'seconds until the token expires' }),
});
export type TokenResponse = Static<typeof TokenResponse>;

export const Me = Type.Union([
  Type.Intersect([Customer, Type.Object({ role: Type.Literal('customer') })]),
  StaffMember,
]);
export type Me = Static<typeof Me>;
