import type { Db } from '../../db/client.js';
import type { ShippingAddress } from '../../db/schema/index.js';
import { notFound } from '../../lib/errors.js';
import { decodeCursor, isPositiveInt, toPage, type Page } from '../../lib/pagination.js';
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

const afterIdOf = (cursor?: string) =>
  (decodeCursor(cursor, (k) => k.length === 1 && isPositiveInt(k[0])) ?? [])[0] as number | undefined;

export function createContactsService({ db, customers }: { db: Db; customers: CustomersService }) {
  return {
    async list(limit: number, cursor?: string): Promise<Page<Contact>> {
      const rows = await repo.listContacts(db, afterIdOf(cursor), limit + 1);
      const page = toPage(rows, limit, (r) => [r.id]);
      return { items: page.items.map(toContact), nextCursor: page.nextCursor };
    },

    async listOfCustomer(customerId: number, limit: number, cursor?: string): Promise<Page<Contact>> {
      const afterId = afterIdOf(cursor);
      if (!(await customers.exists(db, customerId))) throw notFound('customer');
      const rows = await repo.listContactsOfCustomer(db, customerId, afterId, limit + 1);
      const page = toPage(rows, limit, (r) => [r.id]);
      return { items: page.items.map(toContact), nextCursor: page.nextCursor };
    },

    async get(id: number): Promise<Contact> {
      const row = await repo.findContact(db, id);
      if (!row) throw notFound('contact');
      return toContact(row);
    },

    async create(input: CreateContactBody): Promise<Contact> {
      const write = toWrite(input);
      const row = await repo.insertContact(db, { ...write, addressLine1: input.address_line1, city: input.city });
      return toContact(row);
    },

    async update(id: number, input: UpdateContactBody): Promise<Contact> {
      const row = await repo.updateContact(db, id, toWrite(input));
      if (!row) throw notFound('contact');
      return toContact(row);
    },

    async remove(id: number): Promise<void> {
      if (!(await repo.deleteContact(db, id))) throw notFound('contact');
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
