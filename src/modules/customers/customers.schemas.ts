import { Type, type Static } from '@sinclair/typebox';
import { Id } from '../../lib/ids.js';

export const Username = Type.String({
  minLength: 3,
  maxLength: 50,
  pattern: '^[A-Za-z0-9._-]+$',
  description: '3–50 letters, digits, dots, underscores or hyphens; unique regardless of case',
});
export const EmailId = Type.String({ format: 'email', maxLength: 254, description: 'unique regardless of case' });
export const Password = Type.String({ minLength: 8, maxLength: 128, writeOnly: true });
const PersonName = Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' });
const ContactIds = Type.Array(Id, {
  uniqueItems: true,
  maxItems: 100,
  description: 'ids of existing contacts to link to this customer',
});

export const CreateCustomerBody = Type.Object(
  {
    username: Username,
    password: Password,
    email_id: EmailId,
    first_name: PersonName,
    last_name: PersonName,
    contact_id: Type.Optional(ContactIds),
  },
  { additionalProperties: false },
);
export type CreateCustomerBody = Static<typeof CreateCustomerBody>;

export const UpdateCustomerBody = Type.Object(
  {
    username: Type.Optional(Username),
    password: Type.Optional(Password),
    email_id: Type.Optional(EmailId),
    first_name: Type.Optional(PersonName),
    last_name: Type.Optional(PersonName),
    contact_id: Type.Optional(Type.Array(Id, { ...ContactIds, description: 'replaces the linked set' })),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateCustomerBody = Static<typeof UpdateCustomerBody>;

export const Customer = Type.Object({
  id: Type.Integer(),
  username: Type.String(),
  email_id: Type.String(),
  first_name: Type.String(),
  last_name: Type.String(),
  contact_id: Type.Array(Type.Integer(), { description: 'ids of the linked contacts' }),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});
export type Customer = Static<typeof Customer>;

export const CustomerContactParams = Type.Object({ id: Id, contact_id: Id }, { additionalProperties: false });
