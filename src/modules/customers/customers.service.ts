import type { Db } from '../../db/client.js';
import { pgErrorOf } from '../../db/errors.js';
import { invalidInput, notFound } from '../../lib/errors.js';
import { decodeCursor, isPositiveInt, toPage, type Page } from '../../lib/pagination.js';
import { hashPassword } from '../../lib/passwords.js';
import type { CreateCustomerBody, Customer, UpdateCustomerBody } from './customers.schemas.js';
import * as repo from './customers.repository.js';

const FOREIGN_KEY_VIOLATION = '23503';

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

async function assertContactsExist(db: Db, ids: number[]): Promise<void> {
  const existing = await repo.existingContactIds(db, ids);
  const missing = ids.flatMap((id, index) =>
    existing.has(id) ? [] : [{ field: `contact_id[${index}]`, message: `contact ${id} does not exist` }],
  );
  if (missing.length > 0)
    throw invalidInput('CONTACT_NOT_FOUND', 'contact_id names contacts that do not exist', missing);
}

export function createCustomersService({ db }: { db: Db }) {
  async function present(executor: Db, row: repo.CustomerRow): Promise<Customer> {
    const links = await repo.contactIdsByCustomer(executor, [row.id]);
    return toCustomer(row, links.get(row.id) ?? []);
  }

  return {
    async list(limit: number, cursor?: string): Promise<Page<Customer>> {
      const [afterId] = (decodeCursor(cursor, (k) => k.length === 1 && isPositiveInt(k[0])) ?? []) as number[];
      const rows = await repo.listLiveCustomers(db, afterId, limit + 1);
      const page = toPage(rows, limit, (row) => [row.id]);
      const links = await repo.contactIdsByCustomer(
        db,
        page.items.map((r) => r.id),
      );
      return { items: page.items.map((r) => toCustomer(r, links.get(r.id) ?? [])), nextCursor: page.nextCursor };
    },

    async get(id: number): Promise<Customer> {
      const row = await repo.findLiveCustomer(db, id);
      if (!row) throw notFound('customer');
      return present(db, row);
    },

    async exists(executor: Db, id: number, forUpdate = false): Promise<boolean> {
      return (await repo.findLiveCustomer(executor, id, forUpdate)) !== undefined;
    },

    async create(input: CreateCustomerBody): Promise<Customer> {
      const passwordHash = await hashPassword(input.password);
      return db.transaction(async (tx) => {
        const contactIds = input.contact_id ?? [];
        await assertContactsExist(tx, contactIds);
        const row = await repo.insertCustomer(tx, {
          username: input.username,
          passwordHash,
          emailId: input.email_id,
          firstName: input.first_name,
          lastName: input.last_name,
        });
        await repo.linkContacts(tx, row.id, contactIds);
        return present(tx, row);
      });
    },

    async update(id: number, input: UpdateCustomerBody): Promise<Customer> {
      const passwordHash = input.password === undefined ? undefined : await hashPassword(input.password);
      return db.transaction(async (tx) => {
        if (!(await repo.findLiveCustomer(tx, id, true))) throw notFound('customer');
        if (input.contact_id) {
          await assertContactsExist(tx, input.contact_id);
          await repo.unlinkAllContacts(tx, id);
          await repo.linkContacts(tx, id, input.contact_id);
        }
        const row = await repo.updateCustomer(tx, id, {
          username: input.username,
          passwordHash,
          emailId: input.email_id,
          firstName: input.first_name,
          lastName: input.last_name,
        });
        return present(tx, row);
      });
    },

    async remove(id: number): Promise<void> {
      await db.transaction(async (tx) => {
        if (!(await repo.findLiveCustomer(tx, id, true))) throw notFound('customer');
        try {
          // A savepoint, so a refusal by the orders' foreign key leaves the outer transaction usable.
          await tx.transaction((savepoint) => repo.deleteCustomerRow(savepoint, id));
        } catch (error) {
          if (pgErrorOf(error)?.code !== FOREIGN_KEY_VIOLATION) throw error;
          await repo.unlinkAllContacts(tx, id);
          await repo.eraseCustomer(tx, id);
        }
      });
    },

    async linkContact(customerId: number, contactId: number): Promise<void> {
      await db.transaction(async (tx) => {
        if (!(await repo.findLiveCustomer(tx, customerId, true))) throw notFound('customer');
        if ((await repo.existingContactIds(tx, [contactId])).size === 0) throw notFound('contact');
        await repo.linkContacts(tx, customerId, [contactId]);
        await repo.touchCustomer(tx, customerId);
      });
    },

    async unlinkContact(customerId: number, contactId: number): Promise<void> {
      await db.transaction(async (tx) => {
        if (!(await repo.findLiveCustomer(tx, customerId, true))) throw notFound('customer');
        if (!(await repo.unlinkContact(tx, customerId, contactId))) throw notFound('contact');
        await repo.touchCustomer(tx, customerId);
      });
    },
  };
}

export type CustomersService = ReturnType<typeof createCustomersService>;
