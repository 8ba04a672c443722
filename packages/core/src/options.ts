import { DURATION_HINT, type Duration, showValue, toMs } from './duration.js';

/** Makes the package's own invalid-option error from a message that says what to fix. */
export type OptionErrorFactory = (message: string) => Error;

interface Range {
  /** Smallest value accepted (inclusive). */
  min?: number;
  /** Values must be greater than this (exclusive): `{ above: 0 }` for strictly positive. */
  above?: number;
  /** Largest value accepted (inclusive). */
  max?: number;
}

/**
 * Option checks that throw the package's own error with a message naming the option, what it
 * must be and what it got (numbers and choices only: a string value is never echoed beyond
 * 32 characters, and option checks of secrets must not be done with these). Create one per
 * package: `const check = optionChecks((m) => new CacheError(CacheErrorCode.InvalidOption, m))`.
 */
export interface OptionChecks {
  /** A {@link Duration} in milliseconds; `fallback` (a Duration) when `value` is undefined. */
  duration(value: unknown, name: string, fallback: Duration, range?: Range): number;
  duration(value: unknown, name: string, fallback?: undefined, range?: Range): number | undefined;
  /** A finite number in `range`. */
  number(value: unknown, name: string, fallback: number, range?: Range): number;
  number(value: unknown, name: string, fallback?: undefined, range?: Range): number | undefined;
  /** A whole number in `range`. */
  integer(value: unknown, name: string, fallback: number, range?: Range): number;
  integer(value: unknown, name: string, fallback?: undefined, range?: Range): number | undefined;
  /** A boolean. */
  boolean(value: unknown, name: string, fallback: boolean): boolean;
  boolean(value: unknown, name: string): boolean | undefined;
  /** A non-empty string. */
  string(value: unknown, name: string, fallback: string): string;
  string(value: unknown, name: string): string | undefined;
  /** One of `choices`. */
  oneOf<const C extends string>(
    value: unknown,
    name: string,
    choices: readonly C[],
    fallback: C,
  ): C;
  oneOf<const C extends string>(value: unknown, name: string, choices: readonly C[]): C | undefined;
  /** A function. */
  func<F extends (...args: never[]) => unknown>(value: unknown, name: string): F | undefined;
  /** A plain options object (undefined → `{}`). */
  object<T extends object>(value: T | undefined, name: string): T;
}

function inRange(n: number, range: Range | undefined): boolean {
  return (
    (range?.min === undefined || n >= range.min) &&
    (range?.above === undefined || n > range.above) &&
    (range?.max === undefined || n <= range.max)
  );
}

function rangeText(range: Range | undefined, show: (n: number) => string = String): string {
  if (!range) return '';
  const { max } = range;
  if (range.above !== undefined) {
    return ` greater than ${show(range.above)}${max === undefined ? '' : ` and at most ${show(max)}`}`;
  }
  const { min } = range;
  if (min !== undefined && max !== undefined) return ` between ${show(min)} and ${show(max)}`;
  if (min !== undefined) return ` of at least ${show(min)}`;
  if (max !== undefined) return ` of at most ${show(max)}`;
  return '';
}

/** The option checks of one package, throwing what `fail` makes. */
export function optionChecks(fail: OptionErrorFactory): OptionChecks {
  const bad = (name: string, what: string, value: unknown): never => {
    throw fail(`\`${name}\` must be ${what}; got ${showValue(value)}`);
  };
  const checkNumber = (
    value: unknown,
    name: string,
    fallback: number | undefined,
    range: Range | undefined,
    integer: boolean,
  ): number | undefined => {
    if (value === undefined) return fallback;
    const ok =
      typeof value === 'number' &&
      Number.isFinite(value) &&
      (!integer || Number.isInteger(value)) &&
      inRange(value, range);
    if (!ok)
      bad(name, `${integer ? 'a whole number' : 'a finite number'}${rangeText(range)}`, value);
    return value as number;
  };
  const checks = {
    duration(value: unknown, name: string, fallback?: Duration, range?: Range) {
      const raw = value === undefined ? fallback : value;
      if (raw === undefined) return undefined;
      const ms = toMs(raw);
      if (ms === undefined) bad(name, `a duration: ${DURATION_HINT}`, raw);
      if (!inRange(ms!, range)) bad(name, `a duration${rangeText(range, (n) => `${n} ms`)}`, raw);
      return ms;
    },
    number: (value: unknown, name: string, fallback?: number, range?: Range) =>
      checkNumber(value, name, fallback, range, false),
    integer: (value: unknown, name: string, fallback?: number, range?: Range) =>
      checkNumber(value, name, fallback, range, true),
    boolean(value: unknown, name: string, fallback?: boolean) {
      if (value === undefined) return fallback;
      if (typeof value !== 'boolean') bad(name, 'true or false', value);
      return value;
    },
    string(value: unknown, name: string, fallback?: string) {
      if (value === undefined) return fallback;
      if (typeof value !== 'string' || value.length === 0) bad(name, 'a non-empty string', value);
      return value;
    },
    oneOf(value: unknown, name: string, choices: readonly string[], fallback?: string) {
      if (value === undefined) return fallback;
      if (typeof value !== 'string' || !choices.includes(value)) {
        bad(name, `one of ${choices.map((c) => `'${c}'`).join(', ')}`, value);
      }
      return value;
    },
    func(value: unknown, name: string) {
      if (value === undefined) return undefined;
      if (typeof value !== 'function') bad(name, 'a function', value);
      return value;
    },
    object(value: unknown, name: string) {
      if (value === undefined) return {};
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        bad(name, 'an options object', value);
      }
      return value;
    },
  };
  return checks as OptionChecks;
}
