import type { Db } from '../../db/client.js';
import type { AccountRef } from '../../lib/actor.js';
import * as repo from './login-names.repository.js';

/**
 * Usernames and email_ids are unique across customers and staff. Each account holds one row of login_names,
 * written in the same transaction as the account, so the database's unique constraints settle every race.
 */
export const loginNames = {
  claim: (tx: Db, owner: AccountRef, username: string, email: string) =>
    repo.insertLoginNames(tx, owner, username, email),
  change: (tx: Db, owner: AccountRef, names: { username?: string; email?: string }) =>
    repo.updateLoginNames(tx, owner, names),
  release: (tx: Db, owner: AccountRef) => repo.deleteLoginNames(tx, owner),
};
