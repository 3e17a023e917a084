import type { InvalidationBus } from '../../lib/invalidation-bus.js';
import type { Product } from './products.schemas.js';

const MAX_ENTRIES = 50_000;
/**
 * What the entries may take of the heap, roughly: a product's text runs from a few dozen characters to more than
 * 5,000 (its description), so a count alone does not bound the memory. The server's heap is capped (the start
 * script's --max-old-space-size), and the cache must stay a small part of it.
 */
const MAX_BYTES = 24 * 1024 * 1024;

// An object of ten fields and its strings, counting two bytes a character (V8's wide strings) to stay on the safe side.
const bytesOf = (p: Product) => 300 + 2 * (p.sku.length + p.name.length + (p.description?.length ?? 0));

/**
 * Product reads by id, kept in process memory. Every write drops the entry here and, through the bus, in every
 * other process. A read that overlapped any invalidation is not stored, so a stale row cannot sneak back in.
 * Off when several processes run without a bus: nothing would tell them about each other's writes.
 */
export function createProductCache({ enabled, bus }: { enabled: boolean; bus?: InvalidationBus }) {
  const entries = new Map<number, Product>();
  let bytes = 0;
  let generation = 0;

  const remove = (id: number) => {
    const product = entries.get(id);
    if (!product) return;
    entries.delete(id);
    bytes -= bytesOf(product);
  };
  const drop = (ids: number[]) => {
    generation++;
    for (const id of ids) remove(id);
  };
  const clear = () => {
    generation++;
    entries.clear();
    bytes = 0;
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
        remove(id);
        entries.set(id, product);
        bytes += bytesOf(product);
        // The first key is the least recently used.
        while (entries.size > MAX_ENTRIES || bytes > MAX_BYTES) remove(entries.keys().next().value!);
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
