import { and, asc, eq, gte, inArray, lte, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { statementIn } from '../../db/prepared.js';
import { products } from '../../db/schema/index.js';

export type ProductRow = typeof products.$inferSelect;
export type ProductWrite = Partial<Omit<typeof products.$inferInsert, 'id' | 'createdAt' | 'updatedAt'>>;

export async function findProduct(db: Db, id: number): Promise<ProductRow | undefined> {
  const [row] = await db.select().from(products).where(eq(products.id, id));
  return row;
}

export function findProducts(db: Db, ids: number[]): Promise<ProductRow[]> {
  return db.select().from(products).where(inArray(products.id, ids));
}

export async function insertProduct(db: Db, values: typeof products.$inferInsert): Promise<ProductRow> {
  const [row] = await db.insert(products).values(values).returning();
  return row!;
}

export async function updateProduct(db: Db, id: number, values: ProductWrite): Promise<ProductRow | undefined> {
  const [row] = await db
    .update(products)
    .set({ ...values, updatedAt: sql`now()` })
    .where(eq(products.id, id))
    .returning();
  return row;
}

export async function deleteProduct(db: Db, id: number): Promise<boolean> {
  const rows = await db.delete(products).where(eq(products.id, id)).returning({ id: products.id });
  return rows.length > 0;
}

export type TakenStock = Pick<ProductRow, 'id' | 'price' | 'currency'>;

/**
 * One statement for every line: each product either gives its whole quantity or is left untouched, so stock never
 * goes negative; the rows returned are the products that gave. The products are locked first, in id order, as
 * every other change of several products locks them, so that two orders over the same products cannot deadlock.
 */
export async function takeStock(db: Db, lines: { productId: number; quantity: number }[]): Promise<TakenStock[]> {
  const ids = sql.placeholder('ids');
  const quantity = sql`(${sql.placeholder('quantities')}::int[])[array_position(${ids}::int[], p.id)]`;
  const query = statementIn<TakenStock>(
    db,
    'take_stock',
    () => sql`WITH locked AS MATERIALIZED (
        SELECT id FROM products WHERE id = ANY(${ids}::int[]) ORDER BY id FOR UPDATE
      )
      UPDATE products p SET stock = p.stock - ${quantity}, updated_at = now()
      FROM locked
      WHERE p.id = locked.id AND p.active AND p.stock >= ${quantity}
      RETURNING p.id, p.price, p.currency`,
  );
  const result = await query.execute({
    ids: lines.map((l) => l.productId),
    quantities: lines.map((l) => l.quantity),
  });
  return result.rows;
}

export async function lockProduct(db: Db, id: number): Promise<ProductRow | undefined> {
  const [row] = await db.select().from(products).where(eq(products.id, id)).for('update');
  return row;
}

/** Adds (or, negative, removes) units only if the result stays at or above zero. */
export async function addStock(db: Db, id: number, delta: number): Promise<ProductRow | undefined> {
  const [row] = await db
    .update(products)
    .set({ stock: sql`${products.stock} + ${delta}`, updatedAt: sql`now()` })
    .where(and(eq(products.id, id), gte(sql`${products.stock} + ${delta}`, 0)))
    .returning();
  return row;
}

export function listLowStock(
  db: Db,
  threshold: number,
  after: { stock: number; id: number } | undefined,
  take: number,
): Promise<ProductRow[]> {
  return db
    .select()
    .from(products)
    .where(
      and(
        eq(products.active, true),
        lte(products.stock, threshold),
        after ? sql`(${products.stock}, ${products.id}) > (${after.stock}, ${after.id})` : undefined,
      ),
    )
    .orderBy(asc(products.stock), asc(products.id))
    .limit(take);
}
