import { and, asc, eq, gt, ne, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { staff } from '../../db/schema/index.js';

export type StaffRow = typeof staff.$inferSelect;

export async function findStaff(db: Db, id: number, forUpdate = false): Promise<StaffRow | undefined> {
  const query = db.select().from(staff).where(eq(staff.id, id));
  const [row] = forUpdate ? await query.for('update') : await query;
  return row;
}

export async function findStaffByLogin(db: Db, login: string): Promise<StaffRow | undefined> {
  const lower = login.toLowerCase();
  const [row] = await db
    .select()
    .from(staff)
    .where(login.includes('@') ? eq(sql`lower(${staff.emailId})`, lower) : eq(sql`lower(${staff.username})`, lower));
  return row;
}

export function listStaff(db: Db, afterId: number | undefined, take: number): Promise<StaffRow[]> {
  return db
    .select()
    .from(staff)
    .where(afterId === undefined ? undefined : gt(staff.id, afterId))
    .orderBy(asc(staff.id))
    .limit(take);
}

export async function insertStaff(db: Db, values: typeof staff.$inferInsert): Promise<StaffRow> {
  const [row] = await db.insert(staff).values(values).returning();
  return row!;
}

export async function updateStaff(db: Db, id: number, values: Partial<Pick<StaffRow, 'disabled' | 'passwordHash'>>) {
  const [row] = await db
    .update(staff)
    .set({ ...values, updatedAt: sql`now()` })
    .where(eq(staff.id, id))
    .returning();
  return row!;
}

export async function countOtherActiveStaff(db: Db, id: number): Promise<number> {
  const [row] = await db
    .select({ count: sql<number>`count(*)::int` })
    .from(staff)
    .where(and(ne(staff.id, id), eq(staff.disabled, false)));
  return row?.count ?? 0;
}
