import { type Clock, type Duration, systemClock } from '@org/core';
import { check, invalidOption, invalidToken, tokenExpired } from './errors.js';

/** Python's `_MAX_CLOCK_SKEW`: 60 seconds. */
const DEFAULT_MAX_CLOCK_SKEW: Duration = '60s';

/**
 * @internal What decides whether an authentic token is still acceptable. Token timestamps are
 * whole unix seconds on the wire, so the check runs in seconds, exactly as Python's.
 */
export interface TimePolicy {
  /** Maximum age in seconds (a fraction allowed, as Python allows a float ttl). */
  readonly ttl: number;
  /** The current time in whole unix seconds, as Python's `int(time.time())`. */
  readonly now: number;
  /** How far in the future a timestamp may be, in seconds. */
  readonly maxClockSkew: number;
}

/** @internal The clock and skew of an object that judges token ages, parsed once. */
export interface TimeSettings {
  readonly clock: Clock;
  readonly maxClockSkewMs: number;
}

/** @internal A core `Clock` option, or `systemClock`. */
export function checkClock(value: unknown): Clock {
  if (value === undefined) return systemClock;
  if (typeof value !== 'object' || value === null || typeof (value as Clock).now !== 'function') {
    throw invalidOption(
      '`clock` must be a Clock, an object with now(): milliseconds since the epoch',
    );
  }
  return value as Clock;
}

/** @internal Parses `clock` and `maxClockSkew` once, at construction. */
export function timeSettings(options: { clock?: unknown; maxClockSkew?: unknown }): TimeSettings {
  return {
    clock: checkClock(options.clock),
    maxClockSkewMs: check.duration(options.maxClockSkew, 'maxClockSkew', DEFAULT_MAX_CLOCK_SKEW),
  };
}

/** @internal A `ttl` option in milliseconds, or undefined for none. */
export const checkTtl = (ttl: unknown): number | undefined => check.duration(ttl, 'ttl');

/**
 * @internal The policy to judge a token by, reading the clock now; `undefined` when there is no
 * ttl (any age and any clock skew are then accepted, as in Python).
 */
export function timePolicy(
  settings: TimeSettings,
  ttlMs: number | undefined,
): TimePolicy | undefined {
  if (ttlMs === undefined) return undefined;
  return {
    ttl: ttlMs / 1000,
    now: Math.floor(settings.clock.now() / 1000),
    maxClockSkew: settings.maxClockSkewMs / 1000,
  };
}

/**
 * @internal Applies Python's rules, after the MAC has been verified: with a ttl, a token older
 * than ttl is expired and one more than `maxClockSkew` ahead of now is refused.
 */
export function checkTime(timestamp: number, policy: TimePolicy | undefined): void {
  if (policy === undefined) return;
  if (timestamp + policy.ttl < policy.now) throw tokenExpired();
  if (policy.now + policy.maxClockSkew < timestamp) throw invalidToken();
}
