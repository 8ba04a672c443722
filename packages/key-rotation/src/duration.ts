import { ErrorCodes, KeyRingError } from './errors.js';

const UNITS: Record<string, number> = {
  s: 1,
  sec: 1,
  secs: 1,
  second: 1,
  seconds: 1,
  m: 60,
  min: 60,
  mins: 60,
  minute: 60,
  minutes: 60,
  h: 3600,
  hr: 3600,
  hrs: 3600,
  hour: 3600,
  hours: 3600,
  d: 86400,
  day: 86400,
  days: 86400,
  w: 604800,
  week: 604800,
  weeks: 604800,
};

/**
 * A duration in whole seconds: a number of seconds, or a string such as `'90s'`, `'15m'`,
 * `'12h'`, `'7d'`, `'2w'`. Throws `ERR_KEYRING_OPTIONS` naming `what` when it is not one.
 */
export function toSeconds(value: number | string, what: string): number {
  let seconds: number;
  if (typeof value === 'number') seconds = value;
  else {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]+)?\s*$/i.exec(value);
    const unit = m?.[2]?.toLowerCase() ?? 's';
    const factor = UNITS[unit];
    seconds = m && factor !== undefined ? Number(m[1]) * factor : Number.NaN;
  }
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new KeyRingError(
      ErrorCodes.OPTIONS,
      `${what} must be a number of seconds >= 0 or a string such as '15m', '12h', '7d'`,
    );
  }
  return Math.floor(seconds);
}

/** `value` when it is a finite number >= `min`; else `ERR_KEYRING_OPTIONS` naming `what`. */
export function atLeast(value: number, min: number, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new KeyRingError(ErrorCodes.OPTIONS, `${what} must be a number >= ${min}`);
  }
  return value;
}
