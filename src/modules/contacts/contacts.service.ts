import type { Db } from '../../db/client.js';
import type { ShippingAddress } from '../../db/schema/index.js';
import { ownCustomerId, type Actor } from '../../lib/actor.js';
import { conflict, notFound } from '../../lib/errors.js';
import { assertIfMatch } from '../../lib/etag.js';
import { inTransaction } from '../../db/transaction.js';
import { decodeIdCursor, toPage, type Page } from '../../lib/pagination.js';
import type { CustomersService } from '../customers/customers.service.js';
import type { Contact, CreateContactBody, UpdateContactBody } from './contacts.schemas.js';
import * as repo from './contacts.repository.js';

function toContact(row: repo.ContactRow): Contact {
  return {
    id: row.id,
    address_line1: row.addressLine1,
    address_line2: row.addressLine2,
    city: row.city,
    state: row.state,
    postal_code: row.postalCode,
    country: row.country,
    phone_number: row.phoneNumber,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

function toWrite(input: UpdateContactBody): repo.ContactWrite {
  return {
    addressLine1: input.address_line1,
    addressLine2: input.address_line2,
    city: input.city,
    state: input.state,
    postalCode: input.postal_code,
    country: input.country,
    phoneNumber: input.phone_number,
  };
}

export function createContactsService({ db, customers }: { db: Db; customers: CustomersService }) {
  /** The contact, locked, if the caller may see it: staff see all, a customer only those linked to them. */
  async function lockVisible(tx: Db, id: number, actor: Actor | null): Promise<repo.ContactRow> {
    const row = await repo.lockContact(tx, id);
    const own = ownCustomerId(actor);
    if (!row || (own !== undefined && !(await repo.findLinkedContact(tx, own, id)))) throw notFound('contact');
    return row;
  }

  return {
    async list(limit: number, cursor: string | undefined, actor: Actor | null): Promise<Page<Contact>> {
      const afterId = decodeIdCursor(cursor);
      const own = ownCustomerId(actor);
      const rows =
        own === undefined
          ? await repo.listContacts(db, afterId, limit + 1)
          : await repo.listContactsOfCustomer(db, own, afterId, limit + 1);
      const page = toPage(rows, limit, (r) => [r.id]);
      return { items: page.items.map(toContact), nextCursor: page.nextCursor };
    },

    async listOfCustomer(customerId: number, limit: number, cursor: string | undefined, actor: Actor | null) {
      const afterId = decodeIdCursor(cursor);
      if (!(await customers.visible(db, customerId, actor))) throw notFound('customer');
      const rows = await repo.listContactsOfCustomer(db, customerId, afterId, limit + 1);
      const page = toPage(rows, limit, (r) => [r.id]);
      return { items: page.items.map(toContact), nextCursor: page.nextCursor };
    },

    async get(id: number, actor: Actor | null): Promise<Contact> {
      const own = ownCustomerId(actor);
      const row = own === undefined ? await repo.findContact(db, id) : await repo.findLinkedContact(db, own, id);
      if (!row) throw notFound('contact');
      return toContact(row);
    },

    /** A customer's new contact is linked to them in the same transaction. */
    async create(input: CreateContactBody, actor: Actor | null, executor: Db = db): Promise<Contact> {
      const write = toWrite(input);
      return inTransaction(executor, async (tx) => {
        const row = await repo.insertContact(tx, { ...write, addressLine1: input.address_line1, city: input.city });
        const own = ownCustomerId(actor);
        if (own !== undefined) await repo.linkToCustomer(tx, own, row.id);
        return toContact(row);
      });
    },

    async update(id: number, input: UpdateContactBody, actor: Actor | null, ifMatch?: string): Promise<Contact> {
      return inTransaction(db, async (tx) => {
        assertIfMatch(ifMatch, toContact(await lockVisible(tx, id, actor)));
        if (ownCustomerId(actor) !== undefined && (await repo.countLinks(tx, id)) > 1) {
          throw conflict('CONTACT_SHARED', 'this contact is shared with other customers; only staff can change it');
        }
        const row = await repo.updateContact(tx, id, toWrite(input));
        return toContact(row!);
      });
    },

    /** For a customer, a contact that others share is only unlinked from them; otherwise it is deleted. */
    async remove(id: number, actor: Actor | null): Promise<void> {
      await inTransaction(db, async (tx) => {
        await lockVisible(tx, id, actor);
        const own = ownCustomerId(actor);
        if (own !== undefined && (await repo.countLinks(tx, id)) > 1) await repo.unlinkFromCustomer(tx, own, id);
        else await repo.deleteContact(tx, id);
      });
    },

    /** The address an order copies, or undefined when the contact is not linked to that customer. */
    async shippingAddressFor(
      executor: Db,
      customerId: number,
      contactId: number,
    ): Promise<ShippingAddress | undefined> {
      const row = await repo.findLinkedContact(executor, customerId, contactId);
      if (!row) return undefined;
      const { id: _id, created_at: _created, updated_at: _updated, ...address } = toContact(row);
      return address;
    },
  };
}

export type ContactsService = ReturnType<typeof createContactsService>;
