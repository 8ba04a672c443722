/**
 * The time source of every @org package that reads the clock: inject one in tests (or use
 * vitest's fake timers, which `systemClock` follows) instead of patching `Date`.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch, as `Date.now()`. */
  now(): number;
}

/** The real clock: `Date.now()`, read at each call so fake timers apply. */
export const systemClock: Clock = Object.freeze({ now: () => Date.now() });
