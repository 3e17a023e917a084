import { and, asc, eq, gt } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { inventoryMovements } from '../../db/schema/index.js';

export type MovementRow = typeof inventoryMovements.$inferSelect;
export type NewMovement = typeof inventoryMovements.$inferInsert;

export function insertMovements(db: Db, rows: NewMovement[]): Promise<MovementRow[]> {
  return db.insert(inventoryMovements).values(rows).returning();
}

export function listMovements(db: Db, productId: number, afterId: number | undefined, take: number) {
  return db
    .select()
    .from(inventoryMovements)
    .where(
      and(
        eq(inventoryMovements.productId, productId),
        afterId === undefined ? undefined : gt(inventoryMovements.id, afterId),
      ),
    )
    .orderBy(asc(inventoryMovements.id))
    .limit(take);
}

export async function findMovement(db: Db, productId: number, id: number): Promise<MovementRow | undefined> {
  const [row] = await db
    .select()
    .from(inventoryMovements)
    .where(and(eq(inventoryMovements.productId, productId), eq(inventoryMovements.id, id)));
  return row;
}
