/**
 * The scrubber: what leaves the process (to Sentry or to stderr) passes through it first. It is
 * `@org/core`'s, shared with every package that shows text to the outside.
 */
import { scrub as coreScrub, scrubString as coreScrubString, isWrappedSecret } from '@org/core';

export { isWrappedSecret };

/** Scrubs one string: tokens, credentials, emails (core's `scrubString`, `'event'` mode). */
export function scrubString(text: string): string {
  return coreScrubString(text);
}

/**
 * A scrubbed copy of `value`, safe to send: strings scrubbed ({@link scrubString}), values under
 * sensitive keys (`authorization`, `cookie`, `password`, `*token*` …) replaced, wrapped secrets
 * (`toString()` is `[secret]`) replaced, cycles cut, depth, arrays and strings bounded. Errors
 * become `{ name, message, stack }`. Never throws. (Core's `scrub`.)
 */
export function scrub<T>(value: T): T {
  return coreScrub(value);
}
