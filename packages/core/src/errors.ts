/**
 * The one error base of every @org package. A package subclasses it once (`CacheError`,
 * `FernetError` …) and exports its codes as one `const` object; callers match on `code`, never
 * on messages or on `instanceof` of a subclass.
 *
 * The brand is a registered symbol, so `isOrgError` and `instanceof OrgError` hold across two
 * copies of a package (a hoisting accident, or the CJS and ESM builds loaded side by side).
 */

const BRAND: unique symbol = Symbol.for('@org/core.error') as never;

/** Options of an {@link OrgError}: the error it wraps, if any. */
export interface OrgErrorOptions {
  /** The underlying error (or abort reason). */
  cause?: unknown;
}

/**
 * Base class of every error an @org package throws. `code` is stable (`ERR_<PACKAGE>_<WHAT>`, or
 * one of core's shared {@link CoreErrorCode}s); the message says what to do about it and never
 * carries a secret.
 */
export class OrgError<Code extends string = string> extends Error {
  override name = 'OrgError';
  /** Stable machine-readable code: match on this. */
  readonly code: Code;

  constructor(code: Code, message: string, options?: OrgErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /**
   * `err instanceof OrgError` holds for an OrgError of any copy of this package. Subclasses keep
   * the ordinary prototype check: use their `is…Error` guard to cross copies.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // `this` is the class on the right of `instanceof`: OrgError itself or a subclass.
    // biome-ignore lint/complexity/noThisInStatic: the receiver is what is being tested against.
    if (this === OrgError) return isOrgError(value);
    // biome-ignore lint/complexity/noThisInStatic: as above.
    return Function.prototype[Symbol.hasInstance].call(this, value);
  }

  /** `{ name, code, message }` for structured logs; the cause stays out (it may hold a secret). */
  toJSON(): { name: string; code: Code; message: string } {
    return { name: this.name, code: this.code, message: this.message };
  }
}

/**
 * Whether `err` is an {@link OrgError} from any @org package and any copy of it, optionally with
 * one of the given codes.
 */
export function isOrgError<Code extends string = string>(
  err: unknown,
  ...codes: Code[]
): err is OrgError<Code> {
  if (typeof err !== 'object' || err === null) return false;
  if ((err as { [BRAND]?: unknown })[BRAND] !== true) return false;
  return codes.length === 0 || codes.includes((err as { code: Code }).code);
}

/**
 * A guard for one package's errors: `isOrgError` plus the package's code prefix, so that it holds
 * across copies of the package where `instanceof` of its subclass would not.
 *
 * @example
 * export const isCacheError = errorGuard<CacheError>('ERR_CACHE_');
 */
export function errorGuard<E extends OrgError>(
  prefix: string,
): (err: unknown, code?: E['code']) => err is E {
  return (err: unknown, code?: E['code']): err is E =>
    isOrgError(err) &&
    (code === undefined ? err.code.startsWith(prefix) : (err.code as string) === code);
}

/** The codes core itself throws; every package rejects with these for aborts and timeouts. */
export const CoreErrorCode = {
  /** The caller's AbortSignal fired; `cause` is the signal's reason. */
  Aborted: 'ERR_ABORTED',
  /** An operation ran past its timeout; `timeoutMs` says which. */
  Timeout: 'ERR_TIMEOUT',
  /** A core function was given an argument it cannot use (a malformed duration …). */
  InvalidArgument: 'ERR_CORE_INVALID_ARGUMENT',
} as const;

/** One of the {@link CoreErrorCode} values. */
export type CoreErrorCode = (typeof CoreErrorCode)[keyof typeof CoreErrorCode];

/** A message fragment for any thrown value, never more than `max` characters. */
export function describeError(err: unknown, max = 200): string {
  let text: string;
  if (err instanceof Error) text = err.message || err.name;
  else if (typeof err === 'string') text = err;
  else {
    try {
      text = String(err);
    } catch {
      text = typeof err;
    }
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
