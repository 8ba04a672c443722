import type { BreakerSnapshot, CircuitRules } from './circuit-state.js';
import { InvalidOptionError } from './errors.js';
import { type BreakerPreset, type PresetName, presets } from './presets.js';
import type { BreakerRegistry } from './registry.js';
import { isClientError, type RetryOptions } from './retry.js';
import type { BreakerStateStore } from './shared-state.js';
import { checkFunction, checkInteger, checkNumber } from './validate.js';

/** Options of `createBreaker`. Durations are in milliseconds. */
export interface BreakerOptions<A extends unknown[] = unknown[], R = unknown> {
  /** Name in the registry, events and errors. @default "breaker-<n>" */
  name?: string;
  /** Settings of a known upstream (`openai`, `anthropic`, `stripe`, `resend`), or your own; any option below overrides it. */
  preset?: PresetName | BreakerPreset;
  /** Per-attempt timeout; the attempt's signal aborts then. `false` for none. @default 10_000 */
  timeout?: number | false;
  /** How long the breaker stays open before it lets probes through. @default 30_000 */
  resetTimeout?: number;
  /** Each consecutive trip multiplies the open period by this. @default 2 */
  resetBackoffFactor?: number;
  /** Cap on the lengthening open period. @default 8 × resetTimeout */
  maxResetTimeout?: number;
  /**
   * Consecutive failures that open the breaker (the consecutive-failures mode). When set, the
   * percentage rule applies only if `errorThresholdPercentage` is set too.
   * @default undefined (percentage mode)
   */
  failureThreshold?: number;
  /** Failure percentage over the rolling window above which the breaker opens. @default 50 */
  errorThresholdPercentage?: number;
  /** Calls the rolling window must hold before the percentage rule may open it. @default 5 */
  volumeThreshold?: number;
  /** Length of the rolling window. @default 10_000 */
  rollingCountTimeout?: number;
  /** Buckets the rolling window is divided into. @default 10 */
  rollingCountBuckets?: number;
  /** Probes let through at once while half-open. @default 1 */
  halfOpenProbes?: number;
  /** Successful probes that close the breaker. @default 1 */
  successThreshold?: number;
  /**
   * Whether an error counts against the upstream. Errors it refuses still reach the caller but
   * neither open the breaker nor trigger the fallback. @default not HTTP 4xx (except 408, 429), not a caller's abort
   */
  isFailure?: (err: unknown) => boolean;
  /** Answers instead of failing: called with the error and the call's arguments. */
  fallback?: (err: unknown, ...args: A) => R | Promise<R>;
  /** Caps concurrent calls: a number, or `{ maxConcurrent, maxQueue }`. @default unbounded */
  bulkhead?: number | { maxConcurrent: number; maxQueue?: number };
  /** Retries each `fire` with backoff; never retries into an open breaker. @default no retries */
  retry?: RetryOptions;
  /** State to start from, as saved by `toJSON()`. */
  initialState?: BreakerSnapshot;
  /** Shares open/close and the half-open probe across instances (see `@org/resilience/redis`). */
  sharedState?: BreakerStateStore;
  /** Registry to join; `false` for none. @default the process-wide `breakers` */
  registry?: BreakerRegistry | false;
  /** Milliseconds since the epoch. @default Date.now */
  clock?: () => number;
}

/** Default `isFailure`: the upstream failed, not the caller (4xx other than 408/429, aborts). */
export function defaultIsFailure(err: unknown): boolean {
  if (typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'ERR_ABORTED')
    return false;
  return !isClientError(err);
}

/** The options with defaults applied and every number checked. */
export interface ResolvedBreakerOptions {
  timeout: number | false;
  rules: CircuitRules;
  rollingCountTimeout: number;
  rollingCountBuckets: number;
  bulkhead: { maxConcurrent: number; maxQueue: number } | undefined;
}

export function resolveBreakerOptions(o: BreakerOptions<never[], unknown>): ResolvedBreakerOptions {
  if (typeof o !== 'object' || o === null)
    throw new InvalidOptionError('createBreaker options must be an object.');
  let preset: BreakerPreset | undefined;
  if (typeof o.preset === 'string') {
    preset = (presets as Record<string, BreakerPreset>)[o.preset];
    if (!preset) {
      throw new InvalidOptionError(
        `Unknown preset "${o.preset}"; use one of ${Object.keys(presets).join(', ')}, or pass your own settings.`,
      );
    }
  } else preset = o.preset;

  const timeout = o.timeout ?? preset?.timeout ?? 10_000;
  if (timeout !== false) checkNumber('timeout', timeout, 1);
  const resetTimeout = checkNumber(
    'resetTimeout',
    o.resetTimeout ?? preset?.resetTimeout ?? 30_000,
    0,
  );
  const failureThreshold = checkInteger(
    'failureThreshold',
    o.failureThreshold ?? preset?.failureThreshold,
    1,
  );
  const errorThresholdPercentage = checkNumber(
    'errorThresholdPercentage',
    o.errorThresholdPercentage ?? (failureThreshold === undefined ? 50 : undefined),
    0,
    100,
  );
  const resetBackoffFactor = checkNumber('resetBackoffFactor', o.resetBackoffFactor ?? 2, 1);
  const maxResetTimeout = checkNumber(
    'maxResetTimeout',
    o.maxResetTimeout ?? resetTimeout * 8,
    resetTimeout,
  );
  const rules: CircuitRules = {
    failureThreshold,
    errorThresholdPercentage,
    volumeThreshold: checkInteger('volumeThreshold', o.volumeThreshold ?? 5, 0),
    resetTimeout,
    maxResetTimeout,
    resetBackoffFactor,
    halfOpenProbes: checkInteger('halfOpenProbes', o.halfOpenProbes ?? 1, 1),
    successThreshold: checkInteger('successThreshold', o.successThreshold ?? 1, 1),
  };
  const rollingCountTimeout = checkNumber(
    'rollingCountTimeout',
    o.rollingCountTimeout ?? 10_000,
    1,
  );
  const rollingCountBuckets = checkInteger(
    'rollingCountBuckets',
    o.rollingCountBuckets ?? 10,
    1,
    1000,
  );
  checkFunction('isFailure', o.isFailure);
  checkFunction('fallback', o.fallback);
  checkFunction('clock', o.clock);
  let bulkhead: ResolvedBreakerOptions['bulkhead'];
  if (o.bulkhead !== undefined) {
    const b = typeof o.bulkhead === 'number' ? { maxConcurrent: o.bulkhead } : o.bulkhead;
    bulkhead = {
      maxConcurrent: checkInteger('bulkhead.maxConcurrent', b.maxConcurrent, 1),
      maxQueue: checkInteger('bulkhead.maxQueue', b.maxQueue ?? 0, 0),
    };
  }
  return { timeout, rules, rollingCountTimeout, rollingCountBuckets, bulkhead };
}
