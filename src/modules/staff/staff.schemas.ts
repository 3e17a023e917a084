import { Type, type Static } from '@sinclair/typebox';
import { EmailId, Password, Username } from '../customers/customers.schemas.js';

export const CreateStaffBody = Type.Object(
  { username: Username, email_id: EmailId, password: Password },
  { additionalProperties: false },
);
export type CreateStaffBody = Static<typeof CreateStaffBody>;

export const UpdateStaffBody = Type.Object(
  {
    disabled: Type.Optional(Type.Boolean({ description: 'a disabled account cannot log in and its tokens end' })),
    password: Type.Optional(Password),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateStaffBody = Static<typeof UpdateStaffBody>;

export const StaffMember = Type.Object({
  id: Type.Integer(),
  username: Type.String(),
  email_id: Type.String(),
  role: Type.Literal('admin'),
  disabled: Type.Boolean(),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});
export type StaffMember = Static<typeof StaffMember>;
