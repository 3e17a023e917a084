import type { Db } from '../../db/client.js';
import { isStillReferenced } from '../../db/errors.js';
import { isSupportedCurrency } from '../../config.js';
import { afterCommit, inTransaction } from '../../db/transaction.js';
import type { ProductCache } from './product-cache.js';
import { actorLabel, type Actor } from '../../lib/actor.js';
import { invalidField, notFound } from '../../lib/errors.js';
import { assertIfMatch } from '../../lib/etag.js';
import type { InventoryLedger } from '../inventory/inventory.service.js';
import { decodeCursor, isPositiveInt, toPage, type Page } from '../../lib/pagination.js';
import type { CreateProductBody, Product, ProductListQuery, SortField, UpdateProductBody } from './products.schemas.js';
import { listProducts } from './product-list.repository.js';
import * as repo from './products.repository.js';

export function toProduct(row: repo.ProductRow): Product {
  return {
    id: row.id,
    sku: row.sku,
    name: row.name,
    description: row.description,
    price: row.price,
    currency: row.currency,
    stock: row.stock,
    active: row.active,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

function assertCurrency(currency: string | undefined): void {
  if (currency !== undefined && !isSupportedCurrency(currency)) {
    throw invalidField('currency', `${currency} is not an ISO 4217 currency code`);
  }
}

function parseSort(query: ProductListQuery): { field: SortField; direction: 'asc' | 'desc' } {
  const match = /^(-?)(id|price|name|created_at)(?::(asc|desc))?$/.exec(query.sort ?? 'id');
  const field = (match?.[2] ?? 'id') as SortField;
  const direction = match?.[1] === '-' ? 'desc' : (match?.[3] ?? query.order ?? 'asc');
  return { field, direction: direction as 'asc' | 'desc' };
}

type Deps = { db: Db; storeCurrency: string; ledger: InventoryLedger; cache: ProductCache };

export function createProductsService({ db, storeCurrency, ledger, cache }: Deps) {
  return {
    async list(query: ProductListQuery): Promise<Page<Product>> {
      if (query.min_price !== undefined && query.max_price !== undefined && query.min_price > query.max_price) {
        throw invalidField('max_price', 'max_price must not be below min_price');
      }
      const { field, direction } = parseSort(query);
      const key = decodeCursor(
        query.cursor,
        (k) => k.length === 4 && k[0] === field && k[1] === direction && isPositiveInt(k[3]) && k[2] !== null,
      );
      const rows = await listProducts(
        db,
        {
          q: query.q,
          minPrice: query.min_price,
          maxPrice: query.max_price,
          inStock: query.in_stock,
          includeArchived: query.include_archived ?? false,
        },
        { field, direction, after: key ? { value: key[2], id: key[3] as number } : undefined },
        query.limit + 1,
      );
      return toPage(rows, query.limit, (r) => [field, direction, r[field], r.id]);
    },

    async get(id: number): Promise<Product> {
      const product = await cache.read(id, async () => {
        const row = await repo.findProduct(db, id);
        return row && toProduct(row);
      });
      if (!product) throw notFound('product');
      return product;
    },

    async create(input: CreateProductBody, actor: Actor | null, executor: Db = db): Promise<Product> {
      assertCurrency(input.currency);
      return inTransaction(executor, async (tx) => {
        const row = await repo.insertProduct(tx, {
          sku: input.sku,
          name: input.name,
          description: input.description ?? null,
          price: input.price,
          currency: input.currency ?? storeCurrency,
          stock: input.stock ?? 0,
          active: input.active ?? true,
        });
        await ledger.record(tx, [
          { productId: row.id, quantity: row.stock, type: 'initial', actor: actorLabel(actor) },
        ]);
        return toProduct(row);
      });
    },

    /** A new `stock` is written to the ledger as an adjustment of the difference. */
    async update(id: number, input: UpdateProductBody, actor: Actor | null, ifMatch?: string): Promise<Product> {
      assertCurrency(input.currency);
      return inTransaction(db, async (tx) => {
        const current = await repo.lockProduct(tx, id);
        if (!current) throw notFound('product');
        assertIfMatch(ifMatch, toProduct(current));
        const row = (await repo.updateProduct(tx, id, input))!;
        afterCommit(tx, () => cache.invalidate([id]));
        await ledger.record(tx, [
          {
            productId: id,
            quantity: row.stock - current.stock,
            type: 'adjustment',
            reason: 'stock set by PATCH /products/{id}',
            actor: actorLabel(actor),
          },
        ]);
        return toProduct(row);
      });
    },

    /** A product that any order names is archived instead, so order history keeps pointing at it. */
    async remove(id: number): Promise<void> {
      await inTransaction(db, async (tx) => {
        if (!(await repo.lockProduct(tx, id))) throw notFound('product');
        afterCommit(tx, () => cache.invalidate([id]));
        try {
          // A savepoint, so a refusal by an order item's foreign key leaves the transaction usable.
          await inTransaction(tx, (savepoint) => repo.deleteProduct(savepoint, id));
        } catch (error) {
          if (!isStillReferenced(error)) throw error;
          await repo.updateProduct(tx, id, { active: false });
        }
      });
    },
  };
}

export type ProductsService = ReturnType<typeof createProductsService>;
