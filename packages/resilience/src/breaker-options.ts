import { type Clock, type Duration, isAbortedError, systemClock } from '@org/core';
import type { BreakerSnapshot, CircuitRules } from './circuit-state.js';
import { check, invalidOption } from './errors.js';
import { type BreakerPreset, type PresetName, presets } from './presets.js';
import type { BreakerRegistry } from './registry.js';
import {
  isClientError,
  type ResolvedRetry,
  type RetryOptions,
  resolveRetryOptions,
} from './retry-options.js';
import type { BreakerStateStore } from './shared-state.js';

/** Options of `createBreaker`. Every duration is a core `Duration`: ms as a number, or `'30s'`. */
export interface BreakerOptions<A extends unknown[] = unknown[], R = unknown> {
  /** Name in the registry, events and errors. @default "breaker-<n>" */
  name?: string | undefined;
  /** Settings of a known upstream (`openai`, `anthropic`, `stripe`, `resend`), or your own; any option below overrides it. */
  preset?: PresetName | BreakerPreset | undefined;
  /** Per-attempt timeout; the attempt's signal aborts then. `false` for none. @default '10s' */
  timeout?: Duration | false | undefined;
  /** How long the breaker stays open before it lets probes through. @default '30s' */
  resetTimeout?: Duration | undefined;
  /** Each consecutive trip multiplies the open period by this. @default 2 */
  resetBackoffFactor?: number | undefined;
  /** Cap on the lengthening open period. @default 8 × resetTimeout */
  maxResetTimeout?: Duration | undefined;
  /**
   * Consecutive failures that open the breaker (the consecutive-failures mode). When set, the
   * percentage rule applies only if `errorThresholdPercentage` is set too.
   * @default undefined (percentage mode)
   */
  failureThreshold?: number | undefined;
  /** Failure percentage over the rolling window above which the breaker opens. @default 50 */
  errorThresholdPercentage?: number | undefined;
  /** Calls the rolling window must hold before the percentage rule may open it. @default 5 */
  volumeThreshold?: number | undefined;
  /** Length of the rolling window. @default '10s' */
  rollingCountTimeout?: Duration | undefined;
  /** Buckets the rolling window is divided into. @default 10 */
  rollingCountBuckets?: number | undefined;
  /** Probes let through at once while half-open. @default 1 */
  halfOpenProbes?: number | undefined;
  /** Successful probes that close the breaker. @default 1 */
  successThreshold?: number | undefined;
  /**
   * Whether an error counts against the upstream. Errors it refuses still reach the caller but
   * neither open the breaker nor trigger the fallback. @default not HTTP 4xx (except 408, 429), not a caller's abort
   */
  isFailure?: ((err: unknown) => boolean) | undefined;
  /** Answers instead of failing: called with the error and the call's arguments. */
  fallback?: ((err: unknown, ...args: A) => R | Promise<R>) | undefined;
  /** Caps concurrent calls: a number, or `{ maxConcurrent, maxQueue }`. @default unbounded */
  bulkhead?: number | { maxConcurrent: number; maxQueue?: number | undefined } | undefined;
  /** Retries each `fire` with backoff; never retries into an open breaker. @default no retries */
  retry?: RetryOptions | undefined;
  /** State to start from, as saved by `toJSON()`. */
  initialState?: BreakerSnapshot | undefined;
  /** Shares open/close and the half-open probe across instances (see `@org/resilience/redis`). */
  sharedState?: BreakerStateStore | undefined;
  /** Registry to join; `false` for none. @default the process-wide `breakers` */
  registry?: BreakerRegistry | false | undefined;
  /** The time source of the state machine and the rolling window. @default systemClock */
  clock?: Clock | undefined;
}

/** Default `isFailure`: the upstream failed, not the caller (4xx other than 408/429, aborts). */
export function defaultIsFailure(err: unknown): boolean {
  return !(isAbortedError(err) || isClientError(err));
}

/** The options with defaults applied, every number checked, every duration in milliseconds. */
export interface ResolvedBreakerOptions {
  timeoutMs: number | false;
  rules: CircuitRules;
  rollingCountTimeoutMs: number;
  rollingCountBuckets: number;
  bulkhead: { maxConcurrent: number; maxQueue: number } | undefined;
  retry: ResolvedRetry | undefined;
  clock: Clock;
}

function presetOf(preset: BreakerOptions['preset']): BreakerPreset | undefined {
  if (typeof preset !== 'string') return preset;
  const found = (presets as Record<string, BreakerPreset>)[preset];
  if (!found) {
    throw invalidOption(
      `Unknown preset "${preset}"; use one of ${Object.keys(presets).join(', ')}, or pass your own settings.`,
    );
  }
  return found;
}

export function resolveBreakerOptions(o: BreakerOptions<never[], unknown>): ResolvedBreakerOptions {
  check.object(o, 'createBreaker options');
  const preset = presetOf(o.preset);
  const rawTimeout = o.timeout ?? preset?.timeout ?? '10s';
  const timeoutMs =
    rawTimeout === false ? false : check.duration(rawTimeout, 'timeout', '10s', { min: 1 });
  const resetTimeout = check.duration(
    o.resetTimeout ?? preset?.resetTimeout,
    'resetTimeout',
    '30s',
  );
  const failureThreshold = check.integer(
    o.failureThreshold ?? preset?.failureThreshold,
    'failureThreshold',
    undefined,
    { min: 1 },
  );
  const errorThresholdPercentage = check.number(
    o.errorThresholdPercentage ?? (failureThreshold === undefined ? 50 : undefined),
    'errorThresholdPercentage',
    undefined,
    { min: 0, max: 100 },
  );
  const resetBackoffFactor = check.number(o.resetBackoffFactor, 'resetBackoffFactor', 2, {
    min: 1,
  });
  const maxResetTimeout = check.duration(o.maxResetTimeout, 'maxResetTimeout', resetTimeout * 8, {
    min: resetTimeout,
  });
  const rules: CircuitRules = {
    failureThreshold,
    errorThresholdPercentage,
    volumeThreshold: check.integer(o.volumeThreshold, 'volumeThreshold', 5, { min: 0 }),
    resetTimeout,
    maxResetTimeout,
    resetBackoffFactor,
    halfOpenProbes: check.integer(o.halfOpenProbes, 'halfOpenProbes', 1, { min: 1 }),
    successThreshold: check.integer(o.successThreshold, 'successThreshold', 1, { min: 1 }),
  };
  const rollingCountTimeoutMs = check.duration(
    o.rollingCountTimeout,
    'rollingCountTimeout',
    '10s',
    { min: 1 },
  );
  const rollingCountBuckets = check.integer(o.rollingCountBuckets, 'rollingCountBuckets', 10, {
    min: 1,
    max: 1000,
  });
  check.string(o.name, 'name');
  check.func(o.isFailure, 'isFailure');
  check.func(o.fallback, 'fallback');
  const clock = o.clock ?? systemClock;
  if (typeof clock?.now !== 'function') {
    throw invalidOption('`clock` must be a Clock: an object with now().');
  }
  let bulkhead: ResolvedBreakerOptions['bulkhead'];
  if (o.bulkhead !== undefined) {
    const b = typeof o.bulkhead === 'number' ? { maxConcurrent: o.bulkhead } : o.bulkhead;
    check.object(b, 'bulkhead');
    bulkhead = {
      // Required: a missing value is checked as null, so that it is refused by name.
      maxConcurrent: check.integer(b.maxConcurrent ?? null, 'bulkhead.maxConcurrent', 0, {
        min: 1,
      }),
      maxQueue: check.integer(b.maxQueue, 'bulkhead.maxQueue', 0, { min: 0 }),
    };
  }
  let retry: ResolvedRetry | undefined;
  if (o.retry !== undefined) {
    const r = check.object(o.retry, 'retry');
    retry = resolveRetryOptions({ ...r, clock: r.clock ?? clock }, 'retry.');
  }
  return { timeoutMs, rules, rollingCountTimeoutMs, rollingCountBuckets, bulkhead, retry, clock };
}
