import { randomUUID } from 'node:crypto';

const CHANNEL = 'storefront:product-invalidations';

/** Carries "these products changed" to every server process, so each drops its cached copies. */
export type InvalidationBus = {
  publish(ids: number[]): void;
  /** `onMessage` gets changed ids; `onGap` fires when messages may have been missed (a reconnect). */
  subscribe(onMessage: (ids: number[]) => void, onGap: () => void): void;
  /** False while the subscription is down: a cache must not serve what it cannot hear invalidated. */
  healthy(): boolean;
  close(): Promise<void>;
};

export async function createRedisBus(url: string, onError: (error: Error) => void): Promise<InvalidationBus> {
  // Loaded only when REDIS_URL is set.
  const { Redis } = await import('ioredis');
  const origin = randomUUID();
  const publisher = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false });
  const subscriber = new Redis(url, { maxRetriesPerRequest: null });
  let ready = false;
  publisher.on('error', onError);
  subscriber.on('error', onError);

  return {
    publish(ids) {
      publisher.publish(CHANNEL, JSON.stringify({ origin, ids })).catch(onError);
    },
    subscribe(onMessage, onGap) {
      subscriber.on('ready', () => {
        subscriber
          .subscribe(CHANNEL)
          .then(() => {
            ready = true;
            onGap();
          })
          .catch(onError);
      });
      subscriber.on('close', () => {
        ready = false;
        onGap();
      });
      subscriber.on('message', (_channel: string, message: string) => {
        try {
          const parsed = JSON.parse(message) as { origin: string; ids: number[] };
          if (parsed.origin !== origin && Array.isArray(parsed.ids)) onMessage(parsed.ids);
        } catch (error) {
          onError(error as Error);
        }
      });
    },
    healthy: () => ready,
    async close() {
      subscriber.disconnect();
      publisher.disconnect();
    },
  };
}
