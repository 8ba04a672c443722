import { channelName, Emitter, type OrgError } from '@org/core';

/** Payloads of the limiter's events, by name: one object each. */
export type RateLimitEvents = {
  /**
   * Redis failed or timed out: from now on each tier answers by its `failurePolicy` without
   * waiting on Redis, until a background probe finds it again. `error` is a `RateLimitError`
   * (`ERR_RATE_LIMIT_BACKEND`) or core's `TimeoutError`.
   */
  fallback: { error: OrgError };
  /** Redis answers again; `downtimeMs` is how long the limiter ran on its fallback. */
  recovered: { downtimeMs: number };
  /** A request was refused: over its limit (`reason: 'limited'`) or by the deny list. */
  limited: { tier: string; id: string; retryAfterMs: number; reason: 'limited' | 'denied' };
};

/** Names of the limiter's events. */
export type RateLimitEventName = keyof RateLimitEvents;

const EVENTS: readonly RateLimitEventName[] = ['fallback', 'recovered', 'limited'];

/**
 * The `node:diagnostics_channel` name of every event, `org:rate-limit:<event>`:
 * `diagnosticsChannels.fallback` is `'org:rate-limit:fallback'`.
 */
export const diagnosticsChannels = Object.freeze(
  Object.fromEntries(EVENTS.map((e) => [e, channelName('rate-limit', e)])),
) as { readonly [K in RateLimitEventName]: `org:rate-limit:${K}` };

/** The limiter's emitter: core's, publishing each event on `org:rate-limit:<event>` as well. */
export function createRateLimitEmitter(): Emitter<RateLimitEvents> {
  return new Emitter<RateLimitEvents>('rate-limit');
}
