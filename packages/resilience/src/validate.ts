import { InvalidOptionError } from './errors.js';

/** Checks that `value`, when given, is a finite number within [min, max]; returns it. */
export function checkNumber<T extends number | undefined>(
  name: string,
  value: T,
  min: number,
  max = Number.POSITIVE_INFINITY,
): T {
  if (value === undefined) return value;
  if (typeof value !== 'number' || Number.isNaN(value) || value < min || value > max) {
    const range = max === Number.POSITIVE_INFINITY ? `>= ${min}` : `between ${min} and ${max}`;
    throw new InvalidOptionError(`\`${name}\` must be a number ${range}; got ${String(value)}.`);
  }
  return value;
}

/** Checks that `value`, when given, is an integer within [min, max]; returns it. */
export function checkInteger<T extends number | undefined>(
  name: string,
  value: T,
  min: number,
  max?: number,
): T {
  checkNumber(name, value, min, max);
  if (value !== undefined && !Number.isInteger(value)) {
    throw new InvalidOptionError(`\`${name}\` must be a whole number; got ${value}.`);
  }
  return value;
}

/** Checks that `value`, when given, is a function. */
export function checkFunction(name: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'function') {
    throw new InvalidOptionError(`\`${name}\` must be a function; got ${typeof value}.`);
  }
}

/** Checks that `value`, when given, is an AbortSignal. */
export function checkSignal(value: unknown): void {
  if (value !== undefined && !(value instanceof AbortSignal)) {
    throw new InvalidOptionError('`signal` must be an AbortSignal.');
  }
}
