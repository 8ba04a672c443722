import { withTimeout } from '@org/core';
import type { Cluster, Redis } from 'ioredis';
import type { BusHandlers } from '../driver.js';

/**
 * Subscribes to `channel` on a duplicate of `base` (a subscriber connection can run no other
 * command), calling `onUp` each time the subscription is live again and `onDown` when its
 * connection drops. Resolves once subscribed, or after `connectTimeoutMs` without it (it keeps
 * trying in the background), to the function that ends it. `subscribers` tracks the live
 * connections, for the driver's `close()`; `closing` aborts when the driver closes.
 */
export async function subscribeOn(
  base: Redis | Cluster,
  channel: string,
  handlers: BusHandlers,
  connectTimeoutMs: number,
  subscribers: Set<Redis | Cluster>,
  closing?: AbortSignal,
): Promise<() => Promise<void>> {
  const sub = base.duplicate();
  subscribers.add(sub);
  sub.on('error', () => {});
  let up = false;
  let firstUp: () => void = () => {};
  const wentUp = new Promise<void>((r) => {
    firstUp = r;
  });
  const goUp = async () => {
    try {
      await sub.subscribe(channel);
    } catch {
      return;
    }
    if (!up) {
      up = true;
      handlers.onUp();
      firstUp();
    }
  };
  const goDown = () => {
    if (!up) return;
    up = false;
    handlers.onDown();
  };
  sub.on('ready', () => void goUp());
  sub.on('close', goDown);
  sub.on('end', goDown);
  sub.on('message', (ch: string, message: string) => {
    if (ch === channel) handlers.onMessage(message);
  });
  if (sub.status === 'wait') void sub.connect().catch(() => {});
  if (sub.status === 'ready') await goUp();
  // Not up in time: the cache starts without invalidation and `onUp` comes when it is.
  // The driver's close() ends the wait at once: its timer would keep the process alive.
  await withTimeout(() => wentUp, { timeoutMs: connectTimeoutMs, signal: closing }).catch(() => {});
  return async () => {
    subscribers.delete(sub);
    sub.removeAllListeners('close');
    sub.removeAllListeners('end');
    sub.disconnect();
  };
}
