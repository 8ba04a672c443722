export { childController, sleep, withTimeout } from './abort.js';
export { fullJitterDelay } from './backoff.js';
export {
  type Breaker,
  type BreakerEvents,
  type BreakerStats,
  type CallContext,
  createBreaker,
} from './breaker.js';
export { type BreakerOptions, defaultIsFailure } from './breaker-options.js';
export type { BreakerSnapshot, BreakerState } from './circuit-state.js';
export {
  AbortedError,
  BreakerOpenError,
  BreakerShutdownError,
  BulkheadRejectedError,
  InvalidOptionError,
  isAbortedError,
  isBreakerOpenError,
  isBulkheadRejectedError,
  isResilienceError,
  isRetryExhaustedError,
  isTimeoutError,
  ResilienceError,
  type ResilienceErrorCode,
  RetryExhaustedError,
  TimeoutError,
} from './errors.js';
export type { Unsubscribe } from './events.js';
export { type BreakerPreset, type PresetName, presets } from './presets.js';
export {
  type BreakerRegistry,
  breakers,
  createRegistry,
  type RegisteredBreaker,
} from './registry.js';
export {
  type AttemptContext,
  isClientError,
  isRetryable,
  type RetryOptions,
  retry,
  statusOf,
} from './retry.js';
export { parseRetryAfter, retryAfterMs } from './retry-after.js';
export type { BreakerStateStore, SharedStateEvent } from './shared-state.js';
export { type Policy, retryPolicy, wrap } from './wrap.js';
