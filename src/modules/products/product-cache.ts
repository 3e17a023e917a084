import type { InvalidationBus } from '../../lib/invalidation-bus.js';
import type { Product } from './products.schemas.js';

const MAX_ENTRIES = 50_000;

/**
 * Product reads by id, kept in process memory. Every write drops the entry here and, through the bus, in every
 * other process. A read that overlapped any invalidation is not stored, so a stale row cannot sneak back in.
 * Off when several processes run without a bus: nothing would tell them about each other's writes.
 */
export function createProductCache({ enabled, bus }: { enabled: boolean; bus?: InvalidationBus }) {
  const entries = new Map<number, Product>();
  let generation = 0;

  const drop = (ids: number[]) => {
    generation++;
    for (const id of ids) entries.delete(id);
  };
  const clear = () => {
    generation++;
    entries.clear();
  };
  bus?.subscribe(drop, clear);
  const active = () => enabled && (!bus || bus.healthy());

  return {
    async read(id: number, load: () => Promise<Product | undefined>): Promise<Product | undefined> {
      if (!active()) return load();
      const hit = entries.get(id);
      if (hit) {
        // Re-inserting keeps the Map in least-recently-used order.
        entries.delete(id);
        entries.set(id, hit);
        return hit;
      }
      const before = generation;
      const product = await load();
      if (product && before === generation && active()) {
        entries.set(id, product);
        if (entries.size > MAX_ENTRIES) entries.delete(entries.keys().next().value!);
      }
      return product;
    },

    invalidate(ids: number[]): void {
      if (ids.length === 0) return;
      drop(ids);
      bus?.publish(ids);
    },

    size: () => entries.size,
  };
}

export type ProductCache = ReturnType<typeof createProductCache>;
