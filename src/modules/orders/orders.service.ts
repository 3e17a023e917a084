import type { Db } from '../../db/client.js';
import type { OrderStatus } from '../../db/schema/index.js';
import { ownCustomerId, type Actor } from '../../lib/actor.js';
import { invalidField, notFound } from '../../lib/errors.js';
import { decodeCursor, isPositiveInt, toPage, type Page } from '../../lib/pagination.js';
import type { ContactsService } from '../contacts/contacts.service.js';
import type { CustomersService } from '../customers/customers.service.js';
import type { ProductsService } from '../products/products.service.js';
import type { CreateOrderBody, Order } from './orders.schemas.js';
import * as repo from './orders.repository.js';

function toOrder(row: repo.OrderRow, items: repo.OrderItemRow[]): Order {
  return {
    id: row.id,
    customer_id: row.customerId,
    status: row.status,
    shipping_contact_id: row.shippingContactId,
    shipping_address: row.shippingAddress ?? null,
    subtotal: row.subtotal,
    total: row.total,
    currency: row.currency,
    items: items.map((item) => ({
      id: item.id,
      product_id: item.productId,
      quantity: item.quantity,
      unit_price: item.unitPrice,
      line_total: item.lineTotal,
    })),
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

type Deps = { db: Db; customers: CustomersService; contacts: ContactsService; products: ProductsService };

export function createOrdersService({ db, customers, contacts, products }: Deps) {
  async function page(filter: { customerId?: number; status?: OrderStatus }, limit: number, cursor?: string) {
    const [afterId] = (decodeCursor(cursor, (k) => k.length === 1 && isPositiveInt(k[0])) ?? []) as number[];
    const rows = await repo.listOrders(db, filter, afterId, limit + 1);
    const result = toPage(rows, limit, (r) => [r.id]);
    const items = await repo.itemsByOrder(
      db,
      result.items.map((r) => r.id),
    );
    return { items: result.items.map((r) => toOrder(r, items.get(r.id) ?? [])), nextCursor: result.nextCursor };
  }

  return {
    async create(input: CreateOrderBody, actor: Actor | null): Promise<Order> {
      const customerId = input.customer_id ?? ownCustomerId(actor);
      if (customerId === undefined) throw invalidField('customer_id', 'customer_id is required');
      const seen = new Map<number, number>();
      input.items.forEach((item, index) => {
        if (seen.has(item.product_id)) {
          throw invalidField(
            `items[${index}].product_id`,
            `product ${item.product_id} appears more than once`,
            'DUPLICATE_ITEM',
          );
        }
        seen.set(item.product_id, index);
      });

      return db.transaction(async (tx) => {
        if (!(await customers.visible(tx, customerId, actor))) {
          throw invalidField('customer_id', `customer ${customerId} does not exist`, 'CUSTOMER_NOT_FOUND');
        }
        const contactId = input.shipping_contact_id ?? null;
        const shippingAddress =
          contactId === null ? null : await contacts.shippingAddressFor(tx, customerId, contactId);
        if (shippingAddress === undefined) {
          throw invalidField(
            'shipping_contact_id',
            `contact ${contactId} is not linked to customer ${customerId}`,
            'CONTACT_NOT_FOUND',
          );
        }

        const lines = await products.reserve(
          tx,
          input.items.map((i) => ({ productId: i.product_id, quantity: i.quantity })),
        );
        const subtotal = lines.reduce((sum, l) => sum + l.unitPrice * l.quantity, 0);
        const order = await repo.insertOrder(tx, {
          customerId,
          status: 'pending',
          shippingContactId: contactId,
          shippingAddress,
          subtotal,
          total: subtotal,
          currency: lines[0]!.currency,
        });
        const items = await repo.insertItems(
          tx,
          lines.map((l) => ({
            orderId: order.id,
            productId: l.productId,
            quantity: l.quantity,
            unitPrice: l.unitPrice,
            lineTotal: l.unitPrice * l.quantity,
          })),
        );
        return toOrder(order, items);
      });
    },

    async get(id: number, actor: Actor | null): Promise<Order> {
      const row = await repo.findOrder(db, id);
      const own = ownCustomerId(actor);
      if (!row || (own !== undefined && row.customerId !== own)) throw notFound('order');
      const items = await repo.itemsByOrder(db, [id]);
      return toOrder(row, items.get(id) ?? []);
    },

    /** A customer's list holds only their own orders, whatever customer_id they filter by. */
    async list(
      filter: { customerId?: number; status?: OrderStatus },
      limit: number,
      cursor: string | undefined,
      actor: Actor | null,
    ): Promise<Page<Order>> {
      const own = ownCustomerId(actor);
      if (own !== undefined && filter.customerId !== undefined && filter.customerId !== own) {
        return { items: [], nextCursor: null };
      }
      return page(own === undefined ? filter : { ...filter, customerId: own }, limit, cursor);
    },

    async listOfCustomer(
      customerId: number,
      status: OrderStatus | undefined,
      limit: number,
      cursor: string | undefined,
      actor: Actor | null,
    ) {
      if (!(await customers.visible(db, customerId, actor))) throw notFound('customer');
      return page({ customerId, status }, limit, cursor);
    },
  };
}

export type OrdersService = ReturnType<typeof createOrdersService>;
