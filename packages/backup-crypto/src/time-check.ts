import { invalidArgument, invalidToken, tokenExpired } from './errors.js';

/** @internal What decides whether an authentic token is still acceptable. */
export interface TimePolicy {
  /** Maximum age in seconds; `undefined` accepts any age (and any clock skew), as Python does. */
  readonly ttl: number | undefined;
  /** The current time in unix seconds. */
  readonly now: number;
  /** How far in the future a timestamp may be, in seconds, when a ttl is given. */
  readonly maxClockSkew: number;
}

/** @internal Validates a non-negative finite number option. */
export function checkSeconds(name: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isFinite(value) && value >= 0)) {
    throw invalidArgument(`${name} must be a finite number of seconds >= 0, got ${String(value)}`);
  }
}

/**
 * @internal Applies Python's rules, after the MAC has been verified: with a ttl, a token older
 * than ttl is expired and one more than `maxClockSkew` ahead of now is refused.
 */
export function checkTime(timestamp: number, policy: TimePolicy): void {
  if (policy.ttl === undefined) return;
  if (timestamp + policy.ttl < policy.now) throw tokenExpired();
  if (policy.now + policy.maxClockSkew < timestamp) throw invalidToken();
}
