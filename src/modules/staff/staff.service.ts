import type { Db } from '../../db/client.js';
import { domainErrorFromDb } from '../../db/errors.js';
import { conflict, notFound } from '../../lib/errors.js';
import { decodeIdCursor, toPage, type Page } from '../../lib/pagination.js';
import { hashPassword } from '../../lib/passwords.js';
import { assertIfMatch } from '../../lib/etag.js';
import { inTransaction } from '../../db/transaction.js';
import { loginNames } from '../accounts/login-names.service.js';
import type { SessionsService } from '../accounts/sessions.service.js';
import type { CreateStaffBody, StaffMember, UpdateStaffBody } from './staff.schemas.js';
import * as repo from './staff.repository.js';

function toStaff(row: repo.StaffRow): StaffMember {
  return {
    id: row.id,
    username: row.username,
    email_id: row.emailId,
    role: 'admin',
    disabled: row.disabled,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

export function createStaffService({ db, sessions }: { db: Db; sessions: SessionsService }) {
  return {
    async list(limit: number, cursor?: string): Promise<Page<StaffMember>> {
      const afterId = decodeIdCursor(cursor);
      const page = toPage(await repo.listStaff(db, afterId, limit + 1), limit, (r) => [r.id]);
      return { items: page.items.map(toStaff), nextCursor: page.nextCursor };
    },

    async get(id: number): Promise<StaffMember> {
      const row = await repo.findStaff(db, id);
      if (!row) throw notFound('staff member');
      return toStaff(row);
    },

    async create(input: CreateStaffBody, executor: Db = db): Promise<StaffMember> {
      const passwordHash = await hashPassword(input.password);
      return inTransaction(executor, async (tx) => {
        const row = await repo.insertStaff(tx, { username: input.username, emailId: input.email_id, passwordHash });
        await loginNames.claim(tx, { staffId: row.id }, input.username, input.email_id);
        return toStaff(row);
      });
    },

    async update(id: number, input: UpdateStaffBody, ifMatch?: string): Promise<StaffMember> {
      const passwordHash = input.password === undefined ? undefined : await hashPassword(input.password);
      return inTransaction(db, async (tx) => {
        const current = await repo.findStaff(tx, id, true);
        if (!current) throw notFound('staff member');
        assertIfMatch(ifMatch, toStaff(current));
        if (input.disabled === true && !current.disabled && (await repo.countOtherActiveStaff(tx, id)) === 0) {
          throw conflict('LAST_ADMIN', 'the last active admin cannot be disabled');
        }
        const row = await repo.updateStaff(tx, id, { disabled: input.disabled, passwordHash });
        if (input.disabled === true || passwordHash !== undefined) await sessions.revokeAll(tx, { staffId: id });
        return toStaff(row);
      });
    },

    /** Used at start for ADMIN_USERNAME: creates the admin only when no account has that username yet. */
    async ensureAdmin(admin: {
      username: string;
      email: string;
      password: string;
    }): Promise<'created' | 'exists' | 'taken'> {
      if (await repo.findStaffByLogin(db, admin.username)) return 'exists';
      try {
        await this.create({ username: admin.username, email_id: admin.email, password: admin.password });
        return 'created';
      } catch (error) {
        // Another process made it first, or a customer holds that name or email.
        if (!/_TAKEN$/.test(domainErrorFromDb(error)?.code ?? '')) throw error;
        return (await repo.findStaffByLogin(db, admin.username)) ? 'exists' : 'taken';
      }
    },

    findByLogin: (login: string) => repo.findStaffByLogin(db, login),
  };
}

export type StaffService = ReturnType<typeof createStaffService>;
