import { channelName, Emitter, type TimeoutError } from '@org/core';
import type { CacheError } from './errors.js';

/** Where a hit was served from. */
export type CacheTier = 'l1' | 'l2';

/**
 * What a backend failure is reported as: a `CacheError` (`ERR_CACHE_BACKEND`, `cause` = the
 * client's error …), or core's `TimeoutError` (`ERR_TIMEOUT`, `timeoutMs` = `timeouts.command`)
 * when Redis did not answer in time.
 */
export type CacheBackendError = CacheError | TimeoutError;

/** Payloads of the cache's events, by name: one object each. */
export type CacheEvents = {
  /** A value was found; `stale` when it was served past its TTL (grace or soft timeout). */
  hit: { key: string; tier: CacheTier; stale: boolean };
  /** No fresh value was found in any tier. */
  miss: { key: string };
  /** A backend operation failed (the call still completed); never a loader error. */
  error: { operation: string; key?: string | undefined; error: CacheBackendError };
  /** L2 is being skipped after a failure; L1 was flushed. */
  degraded: { error: CacheBackendError };
  /** L2 answers again; L1 was flushed. `downtimeMs` is how long it was skipped. */
  recovered: { downtimeMs: number };
};

/** Names of the cache's events. */
export type CacheEventName = keyof CacheEvents;

const EVENTS: readonly CacheEventName[] = ['hit', 'miss', 'error', 'degraded', 'recovered'];

/**
 * The `node:diagnostics_channel` name of every event, `org:cache:<event>` (payload = the event's
 * payload): `diagnosticsChannels.degraded` is `'org:cache:degraded'`.
 */
export const diagnosticsChannels = Object.freeze(
  Object.fromEntries(EVENTS.map((e) => [e, channelName('cache', e)])),
) as { readonly [K in CacheEventName]: `org:cache:${K}` };

/** The cache's emitter: core's, publishing each event on `org:cache:<event>` as well. */
export function createCacheEmitter(): Emitter<CacheEvents> {
  return new Emitter<CacheEvents>('cache');
}
