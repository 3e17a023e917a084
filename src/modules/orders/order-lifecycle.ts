import type { OrderStatus } from '../../db/schema/index.js';
import type { Actor } from '../../lib/actor.js';
import { conflict } from '../../lib/errors.js';

/** The order state machine: where each state may go next. */
export const NEXT_STATUSES: Record<OrderStatus, OrderStatus[]> = {
  pending: ['paid', 'cancelled'],
  paid: ['shipped', 'cancelled'],
  shipped: ['delivered'],
  delivered: [],
  cancelled: [],
};

export function assertTransition(from: OrderStatus, to: OrderStatus): void {
  const allowed = NEXT_STATUSES[from];
  if (allowed.includes(to)) return;
  const next = allowed.length > 0 ? `it can move to ${allowed.join(' or ')}` : 'it cannot move any further';
  throw conflict('INVALID_STATUS_TRANSITION', `the order is ${from}; ${next}`, undefined, {
    current_status: from,
    allowed_statuses: allowed,
  });
}

/** A customer may cancel their own order only while it is pending; staff also once it is paid. */
export function assertMayCancel(status: OrderStatus, actor: Actor | null): void {
  if (actor?.role === 'customer' && status !== 'pending') {
    throw conflict(
      'INVALID_STATUS_TRANSITION',
      `the order is ${status}; only a pending order can be cancelled by its customer`,
      undefined,
      {
        current_status: status,
        allowed_statuses: [],
      },
    );
  }
  assertTransition(status, 'cancelled');
}
