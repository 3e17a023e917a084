import type { Db } from '../../db/client.js';
import { afterCommit, inTransaction } from '../../db/transaction.js';
import type { ProductCache } from './product-cache.js';
import { actorLabel, type Actor } from '../../lib/actor.js';
import { conflict, invalidField, invalidInput, notFound, type FieldError } from '../../lib/errors.js';
import { decodeCursor, isPositiveInt, toPage, type Page } from '../../lib/pagination.js';
import type { Movement } from '../inventory/inventory.schemas.js';
import type { InventoryLedger } from '../inventory/inventory.service.js';
import type { Product } from './products.schemas.js';
import { toProduct } from './products.service.js';
import * as repo from './products.repository.js';

export type OrderLine = { productId: number; quantity: number };
export type PricedLine = OrderLine & { unitPrice: number; currency: string };

const byProductId = <T extends { productId: number }>(lines: T[]) =>
  [...lines].sort((a, b) => a.productId - b.productId);

/** Stock changes: taken by orders, put back by cancellations, adjusted by staff. Each writes the ledger. */
function assertOneCurrency(lines: OrderLine[], currencyOf: (productId: number) => string): void {
  const first = currencyOf(lines[0]!.productId);
  const index = lines.findIndex((l) => currencyOf(l.productId) !== first);
  if (index >= 0) {
    throw invalidField(
      `items[${index}].product_id`,
      `all products of an order must share one currency (${first})`,
      'MIXED_CURRENCIES',
    );
  }
}

/** Why some lines could not be taken, in the order a client should fix them: unknown, archived, currency, stock. */
async function explainRefusal(
  tx: Db,
  lines: OrderLine[],
  refused: { line: OrderLine; index: number }[],
): Promise<never> {
  const known = new Map(
    (
      await repo.findProducts(
        tx,
        lines.map((l) => l.productId),
      )
    ).map((p) => [p.id, p]),
  );
  const unknown: FieldError[] = [];
  const unavailable: FieldError[] = [];
  lines.forEach((line, index) => {
    const product = known.get(line.productId);
    const field = `items[${index}].product_id`;
    if (!product) unknown.push({ field, message: `product ${line.productId} does not exist` });
    else if (!product.active) unavailable.push({ field, message: `product ${line.productId} is archived` });
  });
  if (unknown.length > 0) throw invalidInput('PRODUCT_NOT_FOUND', 'items name products that do not exist', unknown);
  if (unavailable.length > 0) throw conflict('PRODUCT_UNAVAILABLE', 'items name archived products', unavailable);
  assertOneCurrency(lines, (productId) => known.get(productId)!.currency);
  const short = refused
    .sort((a, b) => a.index - b.index)
    .map(({ line, index }) => ({
      field: `items[${index}].product_id`,
      message: `not enough stock for product ${line.productId}`,
    }));
  throw conflict('INSUFFICIENT_STOCK', 'not enough stock for some items; nothing was ordered', short);
}

type Deps = { db: Db; ledger: InventoryLedger; cache: ProductCache };

export function createStockService({ db, ledger, cache }: Deps) {
  return {
    /**
     * Takes stock for every line inside the caller's transaction, in one statement that locks the products in id
     * order, so that two orders over the same products lock them in the same sequence. Prices come from the
     * locked rows. Only when a line cannot be taken does it look the products up, to say why.
     */
    async reserve(tx: Db, lines: OrderLine[]): Promise<PricedLine[]> {
      const taken = new Map((await repo.takeStock(tx, lines)).map((row) => [row.id, row]));
      if (taken.size < lines.length) {
        const refused = lines.map((line, index) => ({ line, index })).filter(({ line }) => !taken.has(line.productId));
        await explainRefusal(tx, lines, refused);
      }
      assertOneCurrency(lines, (productId) => taken.get(productId)!.currency);
      afterCommit(tx, () => cache.invalidate(lines.map((l) => l.productId)));
      return lines.map((l) => {
        const row = taken.get(l.productId)!;
        return { ...l, unitPrice: row.price, currency: row.currency };
      });
    },

    /** Puts units back (a cancellation), locking products in the same id order as reserve does. */
    async restock(tx: Db, lines: OrderLine[]): Promise<void> {
      for (const line of byProductId(lines)) await repo.addStock(tx, line.productId, line.quantity);
      afterCommit(tx, () => cache.invalidate(lines.map((l) => l.productId)));
    },

    async adjust(
      productId: number,
      delta: number,
      reason: string,
      actor: Actor | null,
      executor: Db = db,
    ): Promise<Movement> {
      return inTransaction(executor, async (tx) => {
        const row = await repo.addStock(tx, productId, delta);
        if (!row) {
          if (!(await repo.findProduct(tx, productId))) throw notFound('product');
          throw conflict('STOCK_WOULD_BE_NEGATIVE', `removing ${-delta} units would take the stock below zero`, [
            { field: 'delta', message: 'the stock would go below zero' },
          ]);
        }
        afterCommit(tx, () => cache.invalidate([productId]));
        const [movement] = await ledger.record(tx, [
          { productId, quantity: delta, type: 'adjustment', reason, actor: actorLabel(actor) },
        ]);
        return movement!;
      });
    },

    async assertProductExists(productId: number): Promise<void> {
      if (!(await repo.findProduct(db, productId))) throw notFound('product');
    },

    async lowStock(threshold: number, limit: number, cursor?: string): Promise<Page<Product>> {
      const key = decodeCursor(cursor, (k) => k.length === 2 && Number.isSafeInteger(k[0]) && isPositiveInt(k[1]));
      const after = key ? { stock: key[0] as number, id: key[1] as number } : undefined;
      const page = toPage(await repo.listLowStock(db, threshold, after, limit + 1), limit, (r) => [r.stock, r.id]);
      return { items: page.items.map(toProduct), nextCursor: page.nextCursor };
    },
  };
}

export type StockService = ReturnType<typeof createStockService>;
