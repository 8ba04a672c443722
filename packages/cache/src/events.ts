import { channel } from 'node:diagnostics_channel';
import type { CacheError } from './errors.js';

/** Where a hit was served from. */
export type CacheTier = 'l1' | 'l2';

/** Payloads of the cache's events, by name. */
export interface CacheEvents {
  /** A value was found; `stale` when it was served past its TTL (grace or soft timeout). */
  hit: { key: string; tier: CacheTier; stale: boolean };
  /** No fresh value was found in any tier. */
  miss: { key: string };
  /** A backend operation failed (the call still completed); never a loader error. */
  error: { operation: string; key?: string; error: CacheError };
  /** L2 is being skipped after a failure; L1 was flushed. */
  degraded: { error: CacheError };
  /** L2 answers again; L1 was flushed. `downtimeMs` is how long it was skipped. */
  recovered: { downtimeMs: number };
}

/** Names of the cache's events. */
export type CacheEventName = keyof CacheEvents;

/** Removes the listener it was returned for. */
export type Unsubscribe = () => void;

/** `node:diagnostics_channel` names the cache publishes to (payload = the event's payload). */
export const diagnosticsChannels = {
  error: 'org.cache.error',
  degraded: 'org.cache.degraded',
  recovered: 'org.cache.recovered',
} as const;

const channels = {
  error: channel(diagnosticsChannels.error),
  degraded: channel(diagnosticsChannels.degraded),
  recovered: channel(diagnosticsChannels.recovered),
};

/**
 * A small typed emitter. A listener that throws is reported with `process.emitWarning` and never
 * breaks the cache call that emitted: observers must not take down the path they observe. Unlike
 * EventEmitter, an `error` event without listeners is not thrown.
 */
export class CacheEmitter {
  private readonly listeners: { [K in CacheEventName]?: Set<(payload: CacheEvents[K]) => void> } =
    {};

  on<K extends CacheEventName>(event: K, listener: (payload: CacheEvents[K]) => void): Unsubscribe {
    let set = this.listeners[event] as Set<(payload: CacheEvents[K]) => void> | undefined;
    if (!set) {
      set = new Set();
      (this.listeners as Record<string, unknown>)[event] = set;
    }
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  /** Whether `event` has listeners; lets hot paths skip building a payload. */
  has(event: CacheEventName): boolean {
    return (this.listeners[event]?.size ?? 0) > 0;
  }

  emit<K extends CacheEventName>(event: K, payload: CacheEvents[K]): void {
    if (event === 'error' || event === 'degraded' || event === 'recovered') {
      const ch = channels[event as keyof typeof channels];
      if (ch.hasSubscribers) ch.publish(payload);
    }
    const set = this.listeners[event] as Set<(payload: CacheEvents[K]) => void> | undefined;
    if (!set || set.size === 0) return;
    for (const listener of set) {
      try {
        listener(payload);
      } catch (err) {
        process.emitWarning(
          `@org/cache: a "${event}" listener threw: ${(err as Error)?.message ?? String(err)}`,
        );
      }
    }
  }

  clear(): void {
    for (const k of Object.keys(this.listeners))
      delete (this.listeners as Record<string, unknown>)[k];
  }
}
