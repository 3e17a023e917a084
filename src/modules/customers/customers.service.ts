import type { Db } from '../../db/client.js';
import { isStillReferenced } from '../../db/errors.js';
import { ownCustomerId, type Actor } from '../../lib/actor.js';
import { invalidInput, notFound } from '../../lib/errors.js';
import { decodeIdCursor, toPage, type Page } from '../../lib/pagination.js';
import { hashPassword } from '../../lib/passwords.js';
import { assertIfMatch } from '../../lib/etag.js';
import { inTransaction } from '../../db/transaction.js';
import { loginNames } from '../accounts/login-names.service.js';
import type { SessionsService } from '../accounts/sessions.service.js';
import type { CreateCustomerBody, Customer, UpdateCustomerBody } from './customers.schemas.js';
import * as repo from './customers.repository.js';

function toCustomer(row: repo.CustomerRow, contactIds: number[]): Customer {
  return {
    id: row.id,
    username: row.username!,
    email_id: row.emailId!,
    first_name: row.firstName!,
    last_name: row.lastName!,
    contact_id: contactIds,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

/**
 * Staff may name any contact; anyone else only contacts already linked to them (none for an anonymous sign-up),
 * so nobody can attach a stranger's address to their account by guessing ids.
 */
async function assertContactsUsable(db: Db, ids: number[], actor: Actor | null): Promise<void> {
  if (ids.length === 0) return;
  let usable: Set<number>;
  if (actor?.role === 'admin') usable = await repo.existingContactIds(db, ids);
  else if (actor) usable = new Set((await repo.contactIdsByCustomer(db, [actor.id])).get(actor.id));
  else usable = new Set();
  const missing = ids.flatMap((id, index) =>
    usable.has(id) ? [] : [{ field: `contact_id[${index}]`, message: `contact ${id} does not exist` }],
  );
  if (missing.length > 0)
    throw invalidInput('CONTACT_NOT_FOUND', 'contact_id names contacts that do not exist', missing);
}

/** A customer sees only themselves; anyone else's id answers exactly like a missing one. */
function assertMayAccess(actor: Actor | null, customerId: number): void {
  const own = ownCustomerId(actor);
  if (own !== undefined && own !== customerId) throw notFound('customer');
}

export function createCustomersService({ db, sessions }: { db: Db; sessions: SessionsService }) {
  async function present(executor: Db, row: repo.CustomerRow): Promise<Customer> {
    const links = await repo.contactIdsByCustomer(executor, [row.id]);
    return toCustomer(row, links.get(row.id) ?? []);
  }

  async function lockLive(tx: Db, id: number, actor: Actor | null): Promise<repo.CustomerRow> {
    assertMayAccess(actor, id);
    const row = await repo.findLiveCustomer(tx, id, true);
    if (!row) throw notFound('customer');
    return row;
  }

  return {
    async list(limit: number, cursor?: string): Promise<Page<Customer>> {
      const afterId = decodeIdCursor(cursor);
      const rows = await repo.listLiveCustomers(db, afterId, limit + 1);
      const page = toPage(rows, limit, (row) => [row.id]);
      const links = await repo.contactIdsByCustomer(
        db,
        page.items.map((r) => r.id),
      );
      return { items: page.items.map((r) => toCustomer(r, links.get(r.id) ?? [])), nextCursor: page.nextCursor };
    },

    async get(id: number, actor: Actor | null): Promise<Customer> {
      assertMayAccess(actor, id);
      const row = await repo.findLiveCustomer(db, id);
      if (!row) throw notFound('customer');
      return present(db, row);
    },

    /** Whether the customer exists and the caller may see them. */
    async visible(executor: Db, id: number, actor: Actor | null): Promise<boolean> {
      const own = ownCustomerId(actor);
      if (own !== undefined && own !== id) return false;
      return (await repo.findLiveCustomer(executor, id)) !== undefined;
    },

    findByLogin: async (login: string) => {
      const row = await repo.findLiveCustomerByLogin(db, login);
      return row ? { id: row.id, passwordHash: row.passwordHash! } : undefined;
    },

    async create(input: CreateCustomerBody, actor: Actor | null, executor: Db = db): Promise<Customer> {
      const passwordHash = await hashPassword(input.password);
      return inTransaction(executor, async (tx) => {
        const contactIds = input.contact_id ?? [];
        await assertContactsUsable(tx, contactIds, actor);
        const row = await repo.insertCustomer(tx, {
          username: input.username,
          passwordHash,
          emailId: input.email_id,
          firstName: input.first_name,
          lastName: input.last_name,
        });
        await loginNames.claim(tx, { customerId: row.id }, input.username, input.email_id);
        await repo.linkContacts(tx, row.id, contactIds);
        return present(tx, row);
      });
    },

    async update(id: number, input: UpdateCustomerBody, actor: Actor | null, ifMatch?: string): Promise<Customer> {
      const passwordHash = input.password === undefined ? undefined : await hashPassword(input.password);
      return inTransaction(db, async (tx) => {
        const current = await lockLive(tx, id, actor);
        if (ifMatch !== undefined) assertIfMatch(ifMatch, await present(tx, current));
        if (input.contact_id) {
          await assertContactsUsable(tx, input.contact_id, actor);
          await repo.unlinkAllContacts(tx, id);
          await repo.linkContacts(tx, id, input.contact_id);
        }
        await loginNames.change(tx, { customerId: id }, { username: input.username, email: input.email_id });
        const row = await repo.updateCustomer(tx, id, {
          username: input.username,
          passwordHash,
          emailId: input.email_id,
          firstName: input.first_name,
          lastName: input.last_name,
        });
        if (passwordHash !== undefined) await sessions.revokeAll(tx, { customerId: id });
        return present(tx, row);
      });
    },

    async remove(id: number, actor: Actor | null): Promise<void> {
      await inTransaction(db, async (tx) => {
        await lockLive(tx, id, actor);
        try {
          // A savepoint, so a refusal by the orders' foreign key leaves the outer transaction usable.
          await tx.transaction((savepoint) => repo.deleteCustomerRow(savepoint, id));
        } catch (error) {
          if (!isStillReferenced(error)) throw error;
          await repo.unlinkAllContacts(tx, id);
          await loginNames.release(tx, { customerId: id });
          await sessions.revokeAll(tx, { customerId: id });
          await repo.eraseCustomer(tx, id);
        }
      });
    },

    async linkContact(customerId: number, contactId: number, actor: Actor | null): Promise<void> {
      await inTransaction(db, async (tx) => {
        await lockLive(tx, customerId, actor);
        // For a customer, only a contact already linked to them exists; relinking it is a no-op.
        const visible =
          actor?.role === 'admin'
            ? (await repo.existingContactIds(tx, [contactId])).size > 0
            : (await repo.contactIdsByCustomer(tx, [customerId])).get(customerId)?.includes(contactId);
        if (!visible) throw notFound('contact');
        await repo.linkContacts(tx, customerId, [contactId]);
        await repo.touchCustomer(tx, customerId);
      });
    },

    async unlinkContact(customerId: number, contactId: number, actor: Actor | null): Promise<void> {
      await inTransaction(db, async (tx) => {
        await lockLive(tx, customerId, actor);
        if (!(await repo.unlinkContact(tx, customerId, contactId))) throw notFound('contact');
        await repo.touchCustomer(tx, customerId);
      });
    },
  };
}

export type CustomersService = ReturnType<typeof createCustomersService>;
