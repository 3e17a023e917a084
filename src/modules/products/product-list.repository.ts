import { and, asc, desc, eq, gte, ilike, lte, or, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { statementIn } from '../../db/prepared.js';
import { products } from '../../db/schema/index.js';
import { isoFromPg } from './pg-time.js';
import type { Product, SortField } from './products.schemas.js';

export type ProductFilter = {
  q?: string;
  minPrice?: number;
  maxPrice?: number;
  inStock?: boolean;
  includeArchived: boolean;
};

export type ProductKeyset = { field: SortField; direction: 'asc' | 'desc'; after?: { value: unknown; id: number } };

/** A row as the driver gives it: the columns by their SQL names, timestamps as PostgreSQL's text. */
type RawProduct = Omit<Product, 'created_at' | 'updated_at'> & { created_at: string; updated_at: string };

const SORT_COLUMNS = { id: products.id, price: products.price, name: products.name, created_at: products.createdAt };

const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

const p = (name: string) => sql.placeholder(name);

/** Which filters a list uses, not their values: one SQL text each, built once. */
function shapeOf(filter: ProductFilter, keyset: ProductKeyset): string {
  const has = (value: unknown) => (value === undefined ? '-' : '+');
  const stock = filter.inStock === undefined ? '-' : filter.inStock ? 'in' : 'out';
  return [
    'products_list',
    filter.includeArchived ? 'all' : 'active',
    has(filter.q),
    has(filter.minPrice),
    has(filter.maxPrice),
    stock,
    keyset.field,
    keyset.direction,
    has(keyset.after),
  ].join(':');
}

function buildList(db: Db, filter: ProductFilter, keyset: ProductKeyset): SQL {
  const conditions: (SQL | undefined)[] = [];
  if (!filter.includeArchived) conditions.push(eq(products.active, true));
  if (filter.q !== undefined)
    conditions.push(or(ilike(products.name, p('pattern')), ilike(products.sku, p('pattern'))));
  if (filter.minPrice !== undefined) conditions.push(gte(products.price, p('minPrice')));
  if (filter.maxPrice !== undefined) conditions.push(lte(products.price, p('maxPrice')));
  if (filter.inStock !== undefined)
    conditions.push(filter.inStock ? sql`${products.stock} > 0` : eq(products.stock, 0));

  const column = SORT_COLUMNS[keyset.field];
  const order = keyset.direction === 'asc' ? asc : desc;
  if (keyset.after) {
    const typed = keyset.field === 'created_at' ? sql`${p('afterValue')}::timestamptz` : sql`${p('afterValue')}`;
    const bound = keyset.field === 'id' ? sql`${p('afterId')}` : sql`(${typed}, ${p('afterId')})`;
    const key = keyset.field === 'id' ? sql`${products.id}` : sql`(${column}, ${products.id})`;
    conditions.push(keyset.direction === 'asc' ? sql`${key} > ${bound}` : sql`${key} < ${bound}`);
  }
  const orderBy = keyset.field === 'id' ? [order(products.id)] : [order(column), order(products.id)];
  return db
    .select()
    .from(products)
    .where(and(...conditions))
    .orderBy(...orderBy)
    .limit(p('take'))
    .getSQL();
}

/**
 * A page of products in the representation clients get. Each filter shape is a named prepared statement, except a
 * `q` search: how selective a substring is decides its plan, so PostgreSQL plans that one for every pattern.
 */
export async function listProducts(
  db: Db,
  filter: ProductFilter,
  keyset: ProductKeyset,
  take: number,
): Promise<Product[]> {
  const query = statementIn<RawProduct>(db, shapeOf(filter, keyset), () => buildList(db, filter, keyset), {
    named: filter.q === undefined,
  });
  const { rows } = await query.execute({
    pattern: filter.q === undefined ? undefined : `%${escapeLike(filter.q)}%`,
    minPrice: filter.minPrice,
    maxPrice: filter.maxPrice,
    afterValue: keyset.after?.value,
    afterId: keyset.after?.id,
    take,
  });
  return rows.map((row) => ({
    id: row.id,
    sku: row.sku,
    name: row.name,
    description: row.description,
    price: row.price,
    currency: row.currency,
    stock: row.stock,
    active: row.active,
    created_at: isoFromPg(row.created_at),
    updated_at: isoFromPg(row.updated_at),
  }));
}
