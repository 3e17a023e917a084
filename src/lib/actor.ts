/** Who is calling, once their token has been checked. Services use it to scope what they return. */
export type Actor = { role: 'admin'; id: number } | { role: 'customer'; id: number };

export type AccountRef = { customerId: number } | { staffId: number };

export const isAdmin = (actor: Actor | null): actor is Extract<Actor, { role: 'admin' }> => actor?.role === 'admin';

/** The customer a caller is limited to, or undefined for staff (who see everyone). */
export const ownCustomerId = (actor: Actor | null): number | undefined =>
  actor?.role === 'customer' ? actor.id : undefined;

/** Scripts such as the seed act with staff rights but no staff account. */
export const SYSTEM: Actor = { role: 'admin', id: 0 };

/** How an actor is recorded in histories and the stock ledger. */
export function actorLabel(actor: Actor | null): string {
  if (!actor) return 'anonymous';
  if (actor === SYSTEM) return 'system';
  return actor.role === 'admin' ? `staff:${actor.id}` : `customer:${actor.id}`;
}
