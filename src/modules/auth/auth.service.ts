import type { Actor, AccountRef } from '../../lib/actor.js';
import { AppError, invalidField, RateLimitedError } from '../../lib/errors.js';
import { hashPassword, verifyPassword } from '../../lib/passwords.js';
import type { SessionsService } from '../accounts/sessions.service.js';
import type { CustomersService } from '../customers/customers.service.js';
import type { StaffService } from '../staff/staff.service.js';
import type { LoginBody, Me, TokenResponse } from './auth.schemas.js';
import type { LoginLimiter } from './login-limiter.js';

const invalidCredentials = () =>
  new AppError('unauthenticated', 'INVALID_CREDENTIALS', 'the username or password is not correct');

type Deps = { customers: CustomersService; staff: StaffService; sessions: SessionsService; limiter: LoginLimiter };

export function createAuthService({ customers, staff, sessions, limiter }: Deps) {
  // Compared against when the account does not exist, so an unknown name costs the same time as a wrong password.
  let decoyHash: Promise<string> | undefined;
  const decoy = () => (decoyHash ??= hashPassword('decoy password that matches nothing'));

  async function findAccount(login: string): Promise<{ owner: AccountRef; hash: string; usable: boolean } | null> {
    const customer = await customers.findByLogin(login);
    if (customer) return { owner: { customerId: customer.id }, hash: customer.passwordHash, usable: true };
    const member = await staff.findByLogin(login);
    if (member) return { owner: { staffId: member.id }, hash: member.passwordHash, usable: !member.disabled };
    return null;
  }

  return {
    async login(input: LoginBody, clientAddress: string): Promise<TokenResponse> {
      const login = input.username ?? input.email_id;
      if (login === undefined) throw invalidField('username', 'username or email_id is required');
      const account = await findAccount(login);
      // Failures count per account (whether it was named by username or email), or per name typed if none.
      const accountKey = !account
        ? `user:${login.toLowerCase()}`
        : 'customerId' in account.owner
          ? `customer:${account.owner.customerId}`
          : `staff:${account.owner.staffId}`;
      const keys = [accountKey, `ip:${clientAddress}`];
      const wait = await limiter.secondsBlocked(keys);
      if (wait > 0) throw new RateLimitedError(wait, 'too many failed logins; try again later');

      const matches = await verifyPassword(input.password, account?.hash ?? (await decoy()));
      if (!account || !matches || !account.usable) {
        await limiter.recordFailure(keys);
        throw invalidCredentials();
      }
      const token = await sessions.issue(account.owner);
      return { access_token: token, token_type: 'Bearer', expires_in: sessions.ttlSeconds };
    },

    logout: (token: string) => sessions.revoke(token),

    async me(actor: Actor): Promise<Me> {
      if (actor.role === 'admin') return staff.get(actor.id);
      return { ...(await customers.get(actor.id, actor)), role: 'customer' };
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
