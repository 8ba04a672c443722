import type { TimeoutError } from '@org/core';
import type { BreakerState } from './circuit-state.js';

/**
 * Events of a breaker, each with one payload object that names the breaker. Each is also
 * published on the diagnostics channel `org:resilience:<event>` (`org:resilience:open` …).
 */
export type BreakerEvents = {
  /** The breaker opened: after failures here (`remote: false`) or on another instance. */
  open: {
    name: string;
    /** When the open period ends, in ms since the epoch. */
    openUntil: number;
    /** Consecutive trips without a close in between. */
    trips: number;
    remote: boolean;
    /** The failure that opened it, when it opened here after one. */
    error?: unknown;
  };
  /** The open period is over; probes may go through. Emitted when next looked at. */
  halfOpen: { name: string };
  /** Probes succeeded (or it was reset, or another instance closed it); calls flow again. */
  close: { name: string; remote: boolean };
  /** Any change of state: `open`, `halfOpen` and `close` in one event. */
  stateChange: { name: string; from: BreakerState; to: BreakerState; remote: boolean };
  /** A call was refused without running: open breaker or full bulkhead. */
  reject: { name: string; error: unknown };
  /** An attempt ran past `timeout`; `error` is core's `TimeoutError`. */
  timeout: { name: string; error: TimeoutError };
  /** An attempt failed in a way that counts against the upstream. */
  failure: { name: string; error: unknown; latencyMs: number };
  /** An attempt succeeded (or failed in a way `isFailure` does not count). */
  success: { name: string; latencyMs: number };
  /** The fallback answered instead of an error. */
  fallback: { name: string; error: unknown };
  /** The shared state store failed; the breaker goes on deciding alone. */
  storeError: { name: string; error: unknown };
};
