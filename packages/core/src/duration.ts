import { CoreErrorCode, OrgError } from './errors.js';

/** Units a {@link Duration} string may use, short and long. */
export type DurationUnit =
  | 'ms'
  | 'millisecond'
  | 'milliseconds'
  | 's'
  | 'sec'
  | 'secs'
  | 'second'
  | 'seconds'
  | 'm'
  | 'min'
  | 'mins'
  | 'minute'
  | 'minutes'
  | 'h'
  | 'hr'
  | 'hrs'
  | 'hour'
  | 'hours'
  | 'd'
  | 'day'
  | 'days'
  | 'w'
  | 'week'
  | 'weeks';

/** A duration written with its unit: `'250ms'`, `'15m'`, `'1.5h'`, `'7 days'`. */
export type DurationString = `${number}${DurationUnit}` | `${number} ${DurationUnit}`;

/**
 * Every duration option of every @org package: **milliseconds** as a number, or a string with
 * its unit (`'250ms'`, `'30s'`, `'15m'`, `'12h'`, `'7d'`, `'2w'`). A bare number is always
 * milliseconds, never seconds.
 */
export type Duration = number | DurationString;

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  millisecond: 1,
  milliseconds: 1,
  s: SECOND,
  sec: SECOND,
  secs: SECOND,
  second: SECOND,
  seconds: SECOND,
  m: MINUTE,
  min: MINUTE,
  mins: MINUTE,
  minute: MINUTE,
  minutes: MINUTE,
  h: HOUR,
  hr: HOUR,
  hrs: HOUR,
  hour: HOUR,
  hours: HOUR,
  d: DAY,
  day: DAY,
  days: DAY,
  w: WEEK,
  week: WEEK,
  weeks: WEEK,
};

// A finite, non-negative decimal, then a unit. No exponent, no sign, no unit-less strings: `'15'`
// is refused because a reader cannot tell whether it means ms or seconds.
const PATTERN = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-zA-Z]+)\s*$/;

/**
 * The milliseconds of `value`, or `undefined` when it is not a {@link Duration} (a negative or
 * non-finite number, a string without a known unit, any other type). Never throws.
 */
export function toMs(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string' || value.length > 64) return undefined;
  const m = PATTERN.exec(value);
  if (!m) return undefined;
  const factor = UNIT_MS[m[2]!.toLowerCase()];
  if (factor === undefined) return undefined;
  const ms = Number(m[1]) * factor;
  return Number.isFinite(ms) ? ms : undefined;
}

/** The sentence every invalid-duration message ends with. */
export const DURATION_HINT =
  "milliseconds as a number, or a string with a unit such as '250ms', '30s', '15m', '12h', '7d'";

/**
 * The milliseconds of a {@link Duration}. Throws `ERR_CORE_INVALID_ARGUMENT` naming `name` when
 * `value` is not one; packages validating their own options use `options.duration` instead, so
 * that the error carries the package's code.
 */
export function parseDuration(value: Duration, name = 'duration'): number {
  const ms = toMs(value);
  if (ms === undefined) {
    throw new OrgError(
      CoreErrorCode.InvalidArgument,
      `${name} must be a duration: ${DURATION_HINT}; got ${showValue(value)}`,
    );
  }
  return ms;
}

const UNITS_DESC: readonly [number, string][] = [
  [WEEK, 'w'],
  [DAY, 'd'],
  [HOUR, 'h'],
  [MINUTE, 'm'],
  [SECOND, 's'],
];

/** `ms` written with the largest unit it is a whole number of: `900000` → `'15m'`, `250` → `'250ms'`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return `${ms}ms`;
  for (const [size, unit] of UNITS_DESC) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/**
 * A short, safe rendering of an option's value for a message: numbers and booleans as they are,
 * a string only when it is short and plain (`"soon"`, `"15 x"`), else by its length, so that a
 * URL, a key or a token passed to the wrong option is never echoed.
 */
export function showValue(value: unknown): string {
  if (typeof value === 'string') {
    return value.length <= 32 && /^[\w .,-]*$/.test(value)
      ? JSON.stringify(value)
      : `a string of ${value.length} characters`;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value;
}
