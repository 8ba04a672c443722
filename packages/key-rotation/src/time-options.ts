import { type Clock, type Duration, showValue, systemClock } from '@org/core';
import { check, invalidOption } from './errors.js';

/**
 * A {@link Duration} option that goes on the wire in whole seconds (JWT `exp`/`nbf`/`iat`
 * checks, HTTP `max-age`), as seconds. It must be 0 or at least one second: a value below that
 * is almost surely a count of seconds written as a number, which is milliseconds now.
 */
export function wireSeconds(
  value: unknown,
  name: string,
  fallback: Duration,
  zero?: 'allow-zero' | 'positive',
): number;
export function wireSeconds(value: unknown, name: string): number | undefined;
export function wireSeconds(
  value: unknown,
  name: string,
  fallback?: Duration,
  zero: 'allow-zero' | 'positive' = 'allow-zero',
): number | undefined {
  const ms =
    fallback === undefined ? check.duration(value, name) : check.duration(value, name, fallback);
  if (ms === undefined) return undefined;
  if ((ms > 0 || zero === 'positive') && ms < 1000) {
    const allowed = zero === 'positive' ? "at least '1s'" : "0 or at least '1s'";
    throw invalidOption(
      `\`${name}\` is counted in whole seconds on the wire: give ${allowed} (a number is milliseconds); got ${showValue(value ?? fallback)}`,
    );
  }
  return Math.floor(ms / 1000);
}

/** The `clock` option: a core `Clock` (`{ now(): number }`), by default `systemClock`. */
export function clockOption(value: unknown): Clock {
  if (value === undefined) return systemClock;
  if (typeof (value as Partial<Clock> | null)?.now !== 'function') {
    throw invalidOption(
      '`clock` must be a Clock, an object with now() returning milliseconds (such as systemClock from @org/core)',
    );
  }
  return value as Clock;
}
