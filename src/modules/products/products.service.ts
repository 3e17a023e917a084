import type { Db } from '../../db/client.js';
import { isStillReferenced } from '../../db/errors.js';
import { isSupportedCurrency } from '../../config.js';
import { conflict, invalidField, invalidInput, notFound, type FieldError } from '../../lib/errors.js';
import { decodeCursor, isPositiveInt, toPage, type Page } from '../../lib/pagination.js';
import type { CreateProductBody, Product, ProductListQuery, SortField, UpdateProductBody } from './products.schemas.js';
import * as repo from './products.repository.js';


function toProduct(row: repo.ProductRow): Product {
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

const sortValue = (row: repo.ProductRow, field: SortField): unknown =>
  field === 'created_at'
    ? row.createdAt.toISOString()
    : field === 'id'
      ? row.id
      : field === 'price'
        ? row.price
        : row.name;

export type OrderLine = { productId: number; quantity: number };
export type PricedLine = OrderLine & { unitPrice: number; currency: string };

export function createProductsService({ db, storeCurrency }: { db: Db; storeCurrency: string }) {
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
      const rows = await repo.listProducts(
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
      const page = toPage(rows, query.limit, (r) => [field, direction, sortValue(r, field), r.id]);
      return { items: page.items.map(toProduct), nextCursor: page.nextCursor };
    },

    async get(id: number): Promise<Product> {
      const row = await repo.findProduct(db, id);
      if (!row) throw notFound('product');
      return toProduct(row);
    },

    async create(input: CreateProductBody): Promise<Product> {
      assertCurrency(input.currency);
      const row = await repo.insertProduct(db, {
        sku: input.sku,
        name: input.name,
        description: input.description ?? null,
        price: input.price,
        currency: input.currency ?? storeCurrency,
        stock: input.stock ?? 0,
        active: input.active ?? true,
      });
      return toProduct(row);
    },

    async update(id: number, input: UpdateProductBody): Promise<Product> {
      assertCurrency(input.currency);
      const row = await repo.updateProduct(db, id, input);
      if (!row) throw notFound('product');
      return toProduct(row);
    },

    /** A product that any order names is archived instead, so order history keeps pointing at it. */
    async remove(id: number): Promise<void> {
      try {
        if (await repo.deleteProduct(db, id)) return;
      } catch (error) {
        if (!isStillReferenced(error)) throw error;
        if (await repo.updateProduct(db, id, { active: false })) return;
      }
      throw notFound('product');
    },

    /**
     * Takes stock for every line inside the caller's transaction, in product-id order so that two orders
     * over the same products lock them in the same sequence. Prices come from the locked rows.
     */
    async reserve(tx: Db, lines: OrderLine[]): Promise<PricedLine[]> {
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

      const currencies = new Set(lines.map((l) => known.get(l.productId)!.currency));
      if (currencies.size > 1) {
        const first = known.get(lines[0]!.productId)!.currency;
        const index = lines.findIndex((l) => known.get(l.productId)!.currency !== first);
        throw invalidField(
          `items[${index}].product_id`,
          `all products of an order must share one currency (${first})`,
          'MIXED_CURRENCIES',
        );
      }

      const priced = new Map<number, PricedLine>();
      const short: FieldError[] = [];
      const inLockOrder = lines
        .map((line, index) => ({ line, index }))
        .sort((a, b) => a.line.productId - b.line.productId);
      for (const { line, index } of inLockOrder) {
        const taken = await repo.takeStock(tx, line.productId, line.quantity);
        if (taken) priced.set(line.productId, { ...line, unitPrice: taken.price, currency: taken.currency });
        else
          short.push({
            field: `items[${index}].product_id`,
            message: `not enough stock for product ${line.productId}`,
          });
      }
      if (short.length > 0) {
        short.sort((a, b) => a.field.localeCompare(b.field, 'en', { numeric: true }));
        throw conflict('INSUFFICIENT_STOCK', 'not enough stock for some items; nothing was ordered', short);
      }
      return lines.map((l) => priced.get(l.productId)!);
    },
  };
}

export type ProductsService = ReturnType<typeof createProductsService>;
