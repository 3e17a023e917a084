import type { Db } from '../../db/client.js';
import type { FulfillmentStatus, OrderStatus } from '../../db/schema/index.js';
import { inTransaction } from '../../db/transaction.js';
import { actorLabel, ownCustomerId, type Actor } from '../../lib/actor.js';
import { invalidField, notFound } from '../../lib/errors.js';
import { assertIfMatch } from '../../lib/etag.js';
import { decodeIdCursor, toPage, type Page } from '../../lib/pagination.js';
import type { ContactsService } from '../contacts/contacts.service.js';
import type { CustomersService } from '../customers/customers.service.js';
import type { InventoryLedger } from '../inventory/inventory.service.js';
import type { StockService } from '../products/stock.service.js';
import { summarize } from '../payments/money.js';
import { assertMayCancel, assertTransition } from './order-lifecycle.js';
import type { CreateOrderBody, Order } from './orders.schemas.js';
import * as repo from './orders.repository.js';
import * as placing from './placing.repository.js';

function toOrder(
  row: repo.OrderRow,
  items: repo.OrderItemRow[],
  history: repo.HistoryRow[],
  money: { captured: number; refunded: number },
): Order {
  return {
    id: row.id,
    customer_id: row.customerId,
    status: row.status,
    shipping_contact_id: row.shippingContactId,
    shipping_address: row.shippingAddress ?? null,
    subtotal: row.subtotal,
    total: row.total,
    currency: row.currency,
    ...summarize(row.total, money.captured, money.refunded),
    fulfillment_status: row.fulfillmentStatus,
    delivered_at: row.deliveredAt?.toISOString() ?? null,
    items: items.map((item) => ({
      id: item.id,
      product_id: item.productId,
      quantity: item.quantity,
      unit_price: item.unitPrice,
      line_total: item.lineTotal,
    })),
    status_history: history.map((h) => ({ status: h.status, at: h.at.toISOString(), by: h.by })),
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

type Deps = {
  db: Db;
  customers: CustomersService;
  /** Unused since placing an order reads the address with its customer check; services.ts still passes it. */
  contacts?: ContactsService;
  stock: StockService;
  ledger: InventoryLedger;
  money: (executor: Db, orderIds: number[]) => Promise<Map<number, { captured: number; refunded: number }>>;
};

/** What the payments module does when an order's status moves; attached once both services exist. */
export type OrderMoney = {
  /** Before a cancellation: refund what was captured, void what is open, all in the same transaction. */
  unwind(tx: Db, order: repo.OrderRow, by: string): Promise<void>;
  /** Staff marking an order paid: records a captured manual payment of what is open. */
  recordManualPayment(tx: Db, order: repo.OrderRow, by: string): Promise<void>;
};

/** What the shipments module does when an order's status moves; attached once both services exist. */
export type OrderFulfilment = {
  /** Before a cancellation: refuses (409) once any of the order's items is in a shipment. */
  assertCancellable(tx: Db, order: repo.OrderRow): Promise<void>;
  /**
   * Staff moving the order to shipped (one shipment of everything left) or delivered (a delivered event on every
   * parcel not yet delivered). The order itself then moves through followFulfilment, like any other shipment change.
   */
  complete(tx: Db, order: repo.OrderRow, status: 'shipped' | 'delivered', by: string): Promise<void>;
};

/** Where an order's parcels stand, as the shipments module sees them. */
export type FulfilmentState = {
  fulfillmentStatus: FulfillmentStatus;
  /** Every parcel delivered (and there is at least one); deliveredAt is when the last of them arrived. */
  allDelivered: boolean;
  deliveredAt: Date | null;
};

const NONE = { captured: 0, refunded: 0 };

export function createOrdersService({ db, customers, stock, ledger, money }: Deps) {
  let orderMoney: OrderMoney | undefined;
  let orderFulfilment: OrderFulfilment | undefined;

  /** Items, histories and money for a set of orders: four queries whatever the number of orders. */
  async function present(executor: Db, rows: repo.OrderRow[]): Promise<Order[]> {
    const ids = rows.map((r) => r.id);
    const items = await repo.itemsByOrder(executor, ids);
    const history = await repo.historyByOrder(executor, ids);
    const paid = await money(executor, ids);
    return rows.map((r) => toOrder(r, items.get(r.id) ?? [], history.get(r.id) ?? [], paid.get(r.id) ?? NONE));
  }

  async function page(filter: { customerId?: number; status?: OrderStatus }, limit: number, cursor?: string) {
    const afterId = decodeIdCursor(cursor);
    const result = toPage(await repo.listOrders(db, filter, afterId, limit + 1), limit, (r) => [r.id]);
    return { items: await present(db, result.items), nextCursor: result.nextCursor };
  }

  /** The order locked for a change, if the caller may see it (another customer's order counts as missing). */
  async function lockVisible(tx: Db, id: number, actor: Actor | null): Promise<repo.OrderRow> {
    const row = await repo.lockOrder(tx, id);
    const own = ownCustomerId(actor);
    if (!row || (own !== undefined && row.customerId !== own)) throw notFound('order');
    return row;
  }

  async function moveTo(tx: Db, order: repo.OrderRow, status: OrderStatus, by: string): Promise<Order> {
    if (status === 'cancelled') await orderFulfilment?.assertCancellable(tx, order);
    if ((status === 'shipped' || status === 'delivered') && orderFulfilment) {
      await orderFulfilment.complete(tx, order, status, by);
      const moved = (await repo.lockOrder(tx, order.id))!;
      if (moved.status === status) return (await present(tx, [moved]))[0]!;
    }
    if (status === 'cancelled') await orderMoney?.unwind(tx, order, by);
    if (status === 'paid') await orderMoney?.recordManualPayment(tx, order, by);
    if (status === 'cancelled') {
      const items = (await repo.itemsByOrder(tx, [order.id])).get(order.id) ?? [];
      const lines = items.map((i) => ({ productId: i.productId, quantity: i.quantity }));
      await stock.restock(tx, lines);
      await ledger.record(
        tx,
        lines.map((l) => ({ ...l, type: 'cancellation' as const, orderId: order.id, actor: by })),
      );
    }
    const row = await repo.setStatus(tx, order.id, status, status === 'delivered' ? new Date() : undefined);
    await repo.insertHistory(tx, order.id, status, by);
    return (await present(tx, [row]))[0]!;
  }

  return {
    attachMoney(hooks: OrderMoney): void {
      orderMoney = hooks;
    },

    attachFulfilment(hooks: OrderFulfilment): void {
      orderFulfilment = hooks;
    },

    lockVisible,

    /** The order as clients see it, read inside the caller's transaction (other modules check state with it). */
    async describe(tx: Db, row: repo.OrderRow): Promise<Order> {
      return (await present(tx, [row]))[0]!;
    },

    /**
     * The order follows its parcels: paid becomes shipped once every item is in a shipment, shipped becomes
     * delivered once every parcel is. Called by the shipments module with the order locked.
     */
    async followFulfilment(tx: Db, orderId: number, state: FulfilmentState, by: string): Promise<void> {
      let order = await repo.setFulfilment(tx, orderId, state.fulfillmentStatus);
      if (order.status === 'paid' && state.fulfillmentStatus === 'fulfilled') {
        order = await repo.setStatus(tx, orderId, 'shipped');
        await repo.insertHistory(tx, orderId, 'shipped', by);
      }
      if (order.status === 'shipped' && state.fulfillmentStatus === 'fulfilled' && state.allDelivered) {
        await repo.setStatus(tx, orderId, 'delivered', state.deliveredAt ?? new Date());
        await repo.insertHistory(tx, orderId, 'delivered', by);
      }
    },

    /**
     * Cancels pending orders left unpaid past the TTL, returning their stock and voiding open payments. Each is
     * re-checked under its row lock, so a payment landing at the same moment wins.
     */
    async expirePendingOrders(ttlMinutes: number): Promise<number> {
      let cancelled = 0;
      for (const id of await repo.expiredPendingOrderIds(db, ttlMinutes, 100)) {
        await inTransaction(db, async (tx) => {
          const order = await repo.lockOrder(tx, id);
          if (!order || order.status !== 'pending') return;
          if (!(await repo.expiredPendingOrderIds(tx, ttlMinutes, 100)).includes(id)) return;
          await moveTo(tx, order, 'cancelled', 'system');
          cancelled++;
        });
      }
      return cancelled;
    },

    /** Moves a pending order to paid once captured minus refunded covers its total. */
    async settle(tx: Db, orderId: number, by: string): Promise<void> {
      const order = await repo.lockOrder(tx, orderId);
      if (!order || order.status !== 'pending') return;
      const paid = (await money(tx, [orderId])).get(orderId) ?? NONE;
      if (paid.captured - paid.refunded < order.total) return;
      await repo.setStatus(tx, orderId, 'paid');
      await repo.insertHistory(tx, orderId, 'paid', by);
    },

    async create(input: CreateOrderBody, actor: Actor | null, executor: Db = db): Promise<Order> {
      const customerId = input.customer_id ?? ownCustomerId(actor);
      if (customerId === undefined) throw invalidField('customer_id', 'customer_id is required');
      const seen = new Set<number>();
      input.items.forEach((item, index) => {
        if (seen.has(item.product_id)) {
          throw invalidField(
            `items[${index}].product_id`,
            `product ${item.product_id} appears more than once`,
            'DUPLICATE_ITEM',
          );
        }
        seen.add(item.product_id);
      });

      const contactId = input.shipping_contact_id ?? null;
      const own = ownCustomerId(actor);
      const by = actorLabel(actor);
      return inTransaction(executor, async (tx) => {
        // A customer naming another customer gets the same answer as for one that does not exist.
        const customer =
          own !== undefined && own !== customerId
            ? undefined
            : await placing.customerWithAddress(tx, customerId, contactId);
        if (!customer) {
          throw invalidField('customer_id', `customer ${customerId} does not exist`, 'CUSTOMER_NOT_FOUND');
        }
        if (contactId !== null && customer.address === null) {
          throw invalidField(
            'shipping_contact_id',
            `contact ${contactId} is not linked to customer ${customerId}`,
            'CONTACT_NOT_FOUND',
          );
        }

        const lines = await stock.reserve(
          tx,
          input.items.map((i) => ({ productId: i.product_id, quantity: i.quantity })),
        );
        const subtotal = lines.reduce((sum, l) => sum + l.unitPrice * l.quantity, 0);
        const placed = await placing.insertPlacedOrder(tx, {
          customerId,
          shippingContactId: contactId,
          shippingAddress: customer.address,
          subtotal,
          currency: lines[0]!.currency,
          lines,
          by,
        });
        // Everything the answer shows was just written: no need to read it back.
        return toOrder(placed.order, placed.items, [placed.history], NONE);
      });
    },

    async get(id: number, actor: Actor | null): Promise<Order> {
      const row = await repo.findOrder(db, id);
      const own = ownCustomerId(actor);
      if (!row || (own !== undefined && row.customerId !== own)) throw notFound('order');
      return (await present(db, [row]))[0]!;
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

    /** The row lock makes two cancels at the same moment take turns; the second finds it cancelled (409). */
    async cancel(id: number, actor: Actor | null, executor: Db = db): Promise<Order> {
      return inTransaction(executor, async (tx) => {
        const order = await lockVisible(tx, id, actor);
        assertMayCancel(order.status, actor);
        return moveTo(tx, order, 'cancelled', actorLabel(actor));
      });
    },

    async changeStatus(id: number, status: OrderStatus, actor: Actor | null, ifMatch?: string): Promise<Order> {
      return inTransaction(db, async (tx) => {
        const order = await lockVisible(tx, id, actor);
        if (ifMatch !== undefined) assertIfMatch(ifMatch, (await present(tx, [order]))[0]);
        assertTransition(order.status, status);
        return moveTo(tx, order, status, actorLabel(actor));
      });
    },
  };
}

export type OrdersService = ReturnType<typeof createOrdersService>;
