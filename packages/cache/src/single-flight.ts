import type { Entry } from './envelope.js';

/** The outcome of one shared load: the serialized value, and whether it was stale. */
export interface Loaded {
  payload: string;
  stale: boolean;
  /** The tier the value was read from; none when the loader made it (for telemetry). */
  tier?: 'l1' | 'l2' | undefined;
  /** The fresh entry read from L2, when that is where the value came from (for early refresh). */
  entry?: Entry;
  /** The payload parsed once, never handed out: each caller gets a copy of it. */
  decoded?: { value: unknown };
}

/** Resolves after `ms`, or earlier when `wake` is called; the timer does not bound a caller. */
export function napOrWake(ms: number, register: (wake: () => void) => () => void): Promise<void> {
  return new Promise((resolve) => {
    let unregister: () => void = () => {};
    const timer = setTimeout(() => {
      unregister();
      resolve();
    }, ms);
    unregister = register(() => {
      clearTimeout(timer);
      unregister();
      resolve();
    });
  });
}
