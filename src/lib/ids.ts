import { Type } from '@sinclair/typebox';

export const MAX_ID = 2_147_483_647;

export const Id = Type.Integer({ minimum: 1, maximum: MAX_ID });

export const IdParams = Type.Object({ id: Id }, { additionalProperties: false });
