import type { Db } from '../../db/client.js';
import type { PaymentStatus } from '../../db/schema/index.js';
import { afterCommit, inTransaction } from '../../db/transaction.js';
import { actorLabel, isAdmin, ownCustomerId, type Actor } from '../../lib/actor.js';
import { AppError, conflict, invalidField, notFound } from '../../lib/errors.js';
import type { OrdersService } from '../orders/orders.service.js';
import type { OrderRow } from '../orders/orders.repository.js';
import { openAmount, statusAfterRefund } from './money.js';
import type { CreatePaymentBody, Payment } from './payments.schemas.js';
import * as repo from './payments.repository.js';
import { InvalidPaymentMethod, type PaymentProvider } from './providers/provider.js';

function toPayment(row: repo.PaymentRow, refunds: repo.RefundRow[], events: repo.EventRow[]): Payment {
  return {
    id: row.id,
    order_id: row.orderId,
    provider: row.provider,
    amount: row.amount,
    currency: row.currency,
    status: row.status,
    amount_captured: row.amountCaptured,
    amount_refunded: row.amountRefunded,
    provider_reference: row.providerReference,
    created_at: row.createdAt.toISOString(),
    refunds: refunds.map((r) => ({
      id: r.id,
      amount: r.amount,
      reason: r.reason,
      provider_reference: r.providerReference,
      created_at: r.createdAt.toISOString(),
    })),
    events: events.map((e) => ({
      id: e.eventId,
      type: e.type,
      received_at: e.receivedAt.toISOString(),
      applied: e.applied,
    })),
  };
}

const wrongState = (payment: repo.PaymentRow, action: string) =>
  conflict('INVALID_PAYMENT_STATE', `the payment is ${payment.status}; it cannot be ${action}`, undefined, {
    current_status: payment.status,
  });

export type PaymentAttempt = { payment: Payment; declined: string | null };

type Deps = {
  db: Db;
  orders: OrdersService;
  providers: Map<string, PaymentProvider>;
  /** Told, once committed, the status each payment attempt reached (for the payments_total metric). */
  onOutcome?: (status: PaymentStatus) => void;
};

export function createPaymentsService({ db, orders, providers, onOutcome = () => {} }: Deps) {
  const reportOutcome = (tx: Db, status: PaymentStatus) => afterCommit(tx, () => onOutcome(status));

  async function present(executor: Db, rows: repo.PaymentRow[]): Promise<Payment[]> {
    const ids = rows.map((r) => r.id);
    const refunds = await repo.refundsOf(executor, ids);
    const events = await repo.eventsOf(executor, ids);
    return rows.map((r) =>
      toPayment(
        r,
        refunds.filter((x) => x.paymentId === r.id),
        events.filter((x) => x.paymentId === r.id),
      ),
    );
  }
  const presentOne = async (executor: Db, row: repo.PaymentRow) => (await present(executor, [row]))[0]!;

  function providerNamed(name: string, actor: Actor | null): PaymentProvider {
    const provider = providers.get(name);
    if (!provider) throw invalidField('provider', `provider must be one of ${[...providers.keys()].join(', ')}`);
    if (provider.staffOnly && !isAdmin(actor)) {
      throw new AppError('forbidden', 'STAFF_ONLY_PROVIDER', `only staff may record ${name} payments`);
    }
    return provider;
  }

  /** The payment locked for a change, with its order, if the caller may see it. */
  async function lockVisible(tx: Db, id: number, actor: Actor | null) {
    const found = await repo.findPayment(tx, id);
    if (!found) throw notFound('payment');
    // The order first, then its payment: the same lock order as a new payment takes, so the two cannot deadlock.
    const order = await orders.lockVisible(tx, found.orderId, actor).catch(() => undefined);
    if (!order) throw notFound('payment');
    return { payment: (await repo.findPayment(tx, id, true))!, order };
  }

  async function refundPayment(tx: Db, payment: repo.PaymentRow, amount: number, reason: string | null) {
    const refundable = payment.amountCaptured - payment.amountRefunded;
    if (amount > refundable) {
      throw conflict('REFUND_TOO_LARGE', `at most ${refundable} can still be refunded from this payment`, [
        { field: 'amount', message: `must not exceed ${refundable}` },
      ]);
    }
    const { reference } = await providers
      .get(payment.provider)!
      .refund(payment.providerReference ?? '', amount, reason);
    await repo.insertRefund(tx, { paymentId: payment.id, amount, reason, providerReference: reference });
    const refunded = payment.amountRefunded + amount;
    return repo.updatePayment(tx, payment.id, {
      amountRefunded: refunded,
      status: statusAfterRefund(payment.amountCaptured, refunded),
    });
  }

  const service = {
    async create(
      orderId: number,
      input: CreatePaymentBody,
      actor: Actor | null,
      executor: Db = db,
    ): Promise<PaymentAttempt> {
      const provider = providerNamed(input.provider, actor);
      const paymentMethod = input.payment_method ?? null;
      if (provider.needsPaymentMethod && !paymentMethod)
        throw invalidField('payment_method', 'payment_method is required');
      return inTransaction(executor, async (tx) => {
        const order = await orders.lockVisible(tx, orderId, actor);
        if (input.currency !== undefined && input.currency !== order.currency) {
          throw invalidField('currency', `the order is in ${order.currency}`);
        }
        if (order.status !== 'pending') {
          throw conflict(
            'ORDER_NOT_PAYABLE',
            `the order is ${order.status}; only a pending order takes payments`,
            undefined,
            {
              current_status: order.status,
            },
          );
        }
        const open = openAmount(order.total, await repo.paymentsOfOrder(tx, orderId, true));
        const amount = input.amount ?? open;
        if (amount <= 0 || amount > open) {
          throw conflict('AMOUNT_ABOVE_OPEN', `only ${open} of the order's total is still open`, [
            { field: 'amount', message: `must be between 1 and ${open}` },
          ]);
        }
        const capture = input.capture ?? true;
        let outcome;
        try {
          outcome = await provider.attempt({
            amount,
            currency: order.currency,
            paymentMethod,
            capture,
            idempotencyKey: `order-${orderId}-${Date.now()}`,
          });
        } catch (error) {
          if (error instanceof InvalidPaymentMethod) throw invalidField('payment_method', error.message);
          throw error;
        }
        const status: PaymentStatus = outcome.status === 'declined' ? 'failed' : outcome.status;
        const row = await repo.insertPayment(tx, {
          orderId,
          provider: provider.name,
          paymentMethod,
          amount,
          currency: order.currency,
          status,
          captureOnSuccess: capture,
          amountCaptured: status === 'captured' ? amount : 0,
          providerReference: outcome.reference,
          failureReason: outcome.status === 'declined' ? outcome.reason : null,
        });
        if (status === 'captured') await orders.settle(tx, orderId, actorLabel(actor));
        reportOutcome(tx, status);
        return { payment: await presentOne(tx, row), declined: outcome.status === 'declined' ? outcome.reason : null };
      });
    },

    async get(id: number, actor: Actor | null): Promise<Payment> {
      const row = await repo.findPayment(db, id);
      const own = ownCustomerId(actor);
      if (!row) throw notFound('payment');
      if (own !== undefined) await orders.get(row.orderId, actor).catch(() => Promise.reject(notFound('payment')));
      return presentOne(db, row);
    },

    async listOfOrder(orderId: number, actor: Actor | null): Promise<Payment[]> {
      await orders.get(orderId, actor);
      return present(db, await repo.paymentsOfOrder(db, orderId));
    },

    async capture(id: number, amount: number | undefined, actor: Actor | null, executor: Db = db): Promise<Payment> {
      return inTransaction(executor, async (tx) => {
        const { payment } = await lockVisible(tx, id, actor);
        if (payment.status !== 'authorized') throw wrongState(payment, 'captured');
        const take = amount ?? payment.amount;
        if (take > payment.amount) {
          throw conflict('CAPTURE_TOO_LARGE', `at most ${payment.amount} was authorized`, [
            { field: 'amount', message: `must not exceed ${payment.amount}` },
          ]);
        }
        await providers.get(payment.provider)!.capture(payment.providerReference ?? '', take);
        const row = await repo.updatePayment(tx, id, { status: 'captured', amountCaptured: take });
        await orders.settle(tx, payment.orderId, actorLabel(actor));
        return presentOne(tx, row);
      });
    },

    async void(id: number, actor: Actor | null, executor: Db = db): Promise<Payment> {
      return inTransaction(executor, async (tx) => {
        const { payment } = await lockVisible(tx, id, actor);
        if (payment.status !== 'authorized' && payment.status !== 'pending') throw wrongState(payment, 'voided');
        await providers.get(payment.provider)!.void(payment.providerReference ?? '');
        return presentOne(tx, await repo.updatePayment(tx, id, { status: 'voided' }));
      });
    },

    async refund(id: number, amount: number, reason: string, actor: Actor | null, executor: Db = db): Promise<Payment> {
      return inTransaction(executor, async (tx) => {
        const { payment } = await lockVisible(tx, id, actor);
        if (payment.status !== 'captured' && payment.status !== 'partially_refunded')
          throw wrongState(payment, 'refunded');
        return presentOne(tx, await refundPayment(tx, payment, amount, reason));
      });
    },

    /** Cancelling an order gives its money back in the same transaction: refunds and voids, all or nothing. */
    async unwind(tx: Db, order: OrderRow): Promise<void> {
      for (const payment of await repo.paymentsOfOrder(tx, order.id, true)) {
        const provider = providers.get(payment.provider)!;
        if (payment.status === 'authorized' || payment.status === 'pending') {
          await provider.void(payment.providerReference ?? '');
          await repo.updatePayment(tx, payment.id, { status: 'voided' });
        } else if (payment.amountCaptured > payment.amountRefunded) {
          await refundPayment(tx, payment, payment.amountCaptured - payment.amountRefunded, 'order cancelled');
        }
      }
    },

    /**
     * Gives `amount` back from the order's captured payments, oldest first, inside the caller's transaction (a
     * received return). Refuses (409) before any gateway call when the payments no longer hold that much.
     */
    async refundCaptured(tx: Db, orderId: number, amount: number, reason: string): Promise<void> {
      const refundable = (await repo.paymentsOfOrder(tx, orderId, true)).filter(
        (p) => (p.status === 'captured' || p.status === 'partially_refunded') && p.amountCaptured > p.amountRefunded,
      );
      const available = refundable.reduce((sum, p) => sum + p.amountCaptured - p.amountRefunded, 0);
      if (amount > available) {
        throw conflict(
          'REFUND_TOO_LARGE',
          `the order's payments hold only ${available} that can be refunded`,
          undefined,
          {
            refundable: available,
          },
        );
      }
      let left = amount;
      for (const payment of refundable) {
        if (left <= 0) break;
        const take = Math.min(left, payment.amountCaptured - payment.amountRefunded);
        await refundPayment(tx, payment, take, reason);
        left -= take;
      }
    },

    /** Staff marking a pending order paid: what is open is recorded as a captured manual payment. */
    async recordManualPayment(tx: Db, order: OrderRow): Promise<void> {
      const existing = await repo.paymentsOfOrder(tx, order.id, true);
      if (existing.some((p) => p.status === 'pending' || p.status === 'authorized')) {
        throw conflict(
          'PAYMENT_IN_PROGRESS',
          'a payment of this order is pending or authorized; capture or void it first',
        );
      }
      const open = openAmount(order.total, existing);
      if (open <= 0) return;
      const outcome = await providers.get('manual')!.attempt({
        amount: open,
        currency: order.currency,
        paymentMethod: null,
        capture: true,
        idempotencyKey: `order-${order.id}-manual`,
      });
      await repo.insertPayment(tx, {
        orderId: order.id,
        provider: 'manual',
        amount: open,
        currency: order.currency,
        status: 'captured',
        amountCaptured: open,
        providerReference: outcome.reference,
      });
      reportOutcome(tx, 'captured');
    },

    /** A verified webhook event, applied at most once; one that does not fit is recorded and changes nothing. */
    async applyEvent(providerName: string, event: import('./providers/provider.js').WebhookEvent): Promise<void> {
      await inTransaction(db, async (tx) => {
        const recorded = await repo.recordEvent(tx, {
          provider: providerName,
          eventId: event.id,
          type: event.type,
          applied: false,
        });
        if (!recorded) return;
        const found = event.providerReference
          ? await repo.findByReference(tx, providerName, event.providerReference)
          : undefined;
        if (found) await orders.lockVisible(tx, found.orderId, null);
        const payment = found && (await repo.findPayment(tx, found.id, true));
        const settle = (note: string, applied: boolean) =>
          repo.settleEvent(tx, recorded.id, { applied, paymentId: payment?.id ?? null, note });
        if (!payment) return settle('no payment has this provider_reference', false);
        const by = `provider:${providerName}`;

        if (event.type === 'payment.succeeded' && payment.status === 'pending') {
          const captured = payment.captureOnSuccess;
          await repo.updatePayment(tx, payment.id, {
            status: captured ? 'captured' : 'authorized',
            amountCaptured: captured ? payment.amount : 0,
          });
          if (captured) await orders.settle(tx, payment.orderId, by);
          reportOutcome(tx, captured ? 'captured' : 'authorized');
          return settle('settled', true);
        }
        if (event.type === 'payment.failed' && payment.status === 'pending') {
          await repo.updatePayment(tx, payment.id, {
            status: 'failed',
            failureReason: 'reported failed by the gateway',
          });
          reportOutcome(tx, 'failed');
          return settle('failed', true);
        }
        if (
          event.type === 'refund.succeeded' &&
          (payment.status === 'captured' || payment.status === 'partially_refunded')
        ) {
          const amount = event.amount ?? 0;
          const refundable = payment.amountCaptured - payment.amountRefunded;
          if (!event.refundReference || amount <= 0 || amount > refundable) {
            return settle('refund does not fit what is captured', false);
          }
          const refund = await repo.insertRefund(tx, {
            paymentId: payment.id,
            amount,
            reason: 'refunded in the gateway',
            providerReference: event.refundReference,
          });
          if (!refund) return settle('refund already recorded', false);
          const refunded = payment.amountRefunded + amount;
          await repo.updatePayment(tx, payment.id, {
            amountRefunded: refunded,
            status: statusAfterRefund(payment.amountCaptured, refunded),
          });
          return settle('refund recorded', true);
        }
        return settle(`does not fit a ${payment.status} payment`, false);
      });
    },
  };
  return service;
}

export type PaymentsService = ReturnType<typeof createPaymentsService>;
