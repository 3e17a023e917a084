import type { Db } from '../../db/client.js';
import type { MovementType } from '../../db/schema/index.js';
import { notFound } from '../../lib/errors.js';
import { decodeIdCursor, toPage, type Page } from '../../lib/pagination.js';
import type { Movement } from './inventory.schemas.js';
import * as repo from './inventory.repository.js';

export type MovementInput = {
  productId: number;
  quantity: number;
  type: MovementType;
  reason?: string | null;
  orderId?: number | null;
  actor: string;
};

export function toMovement(row: repo.MovementRow): Movement {
  return {
    id: row.id,
    product_id: row.productId,
    quantity: row.quantity,
    type: row.type,
    reason: row.reason,
    order_id: row.orderId,
    actor: row.actor,
    created_at: row.createdAt.toISOString(),
  };
}

/** The stock ledger. Writers pass their open transaction, so a stock change and its movement commit together. */
export function createInventoryLedger({ db }: { db: Db }) {
  return {
    async record(tx: Db, movements: MovementInput[]): Promise<Movement[]> {
      const rows = movements.filter((m) => m.quantity !== 0);
      if (rows.length === 0) return [];
      const inserted = await repo.insertMovements(
        tx,
        rows.map((m) => ({ ...m, reason: m.reason ?? null, orderId: m.orderId ?? null })),
      );
      return inserted.map(toMovement);
    },

    async list(productId: number, limit: number, cursor?: string): Promise<Page<Movement>> {
      const afterId = decodeIdCursor(cursor);
      const page = toPage(await repo.listMovements(db, productId, afterId, limit + 1), limit, (r) => [r.id]);
      return { items: page.items.map(toMovement), nextCursor: page.nextCursor };
    },

    async get(productId: number, id: number): Promise<Movement> {
      const row = await repo.findMovement(db, productId, id);
      if (!row) throw notFound('inventory movement');
      return toMovement(row);
    },
  };
}

export type InventoryLedger = ReturnType<typeof createInventoryLedger>;
