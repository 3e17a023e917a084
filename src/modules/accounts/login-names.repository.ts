import { eq } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { loginNames } from '../../db/schema/index.js';
import type { AccountRef } from '../../lib/actor.js';

const ownedBy = (owner: AccountRef) =>
  'customerId' in owner ? eq(loginNames.customerId, owner.customerId) : eq(loginNames.staffId, owner.staffId);

export async function insertLoginNames(db: Db, owner: AccountRef, username: string, email: string): Promise<void> {
  await db.insert(loginNames).values({
    usernameLower: username.toLowerCase(),
    emailLower: email.toLowerCase(),
    customerId: 'customerId' in owner ? owner.customerId : null,
    staffId: 'staffId' in owner ? owner.staffId : null,
  });
}

export async function updateLoginNames(db: Db, owner: AccountRef, names: { username?: string; email?: string }) {
  if (names.username === undefined && names.email === undefined) return;
  await db
    .update(loginNames)
    .set({ usernameLower: names.username?.toLowerCase(), emailLower: names.email?.toLowerCase() })
    .where(ownedBy(owner));
}

export async function deleteLoginNames(db: Db, owner: AccountRef): Promise<void> {
  await db.delete(loginNames).where(ownedBy(owner));
}
