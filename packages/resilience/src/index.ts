export {
  AbortedError,
  isAbortedError,
  isTimeoutError,
  TimeoutError,
  type Unsubscribe,
} from '@org/core';
export { fullJitterDelay } from './backoff.js';
export {
  type Breaker,
  type BreakerStats,
  type CallContext,
  createBreaker,
} from './breaker.js';
export { type BreakerOptions, defaultIsFailure } from './breaker-options.js';
export type { BreakerSnapshot, BreakerState } from './circuit-state.js';
export {
  createMemoryStateStore,
  type MemoryStateStore,
  type MemoryStateStoreOptions,
} from './drivers/memory-state.js';
export {
  BreakerOpenError,
  BreakerShutdownError,
  BulkheadRejectedError,
  isBreakerOpenError,
  isBulkheadRejectedError,
  isResilienceError,
  isRetryExhaustedError,
  ResilienceError,
  ResilienceErrorCode,
  RetryExhaustedError,
} from './errors.js';
export type { BreakerEvents } from './events.js';
export { type BreakerPreset, type PresetName, presets } from './presets.js';
export {
  type BreakerRegistry,
  breakers,
  createRegistry,
  type RegisteredBreaker,
} from './registry.js';
export { retry } from './retry.js';
export { parseRetryAfter, retryAfterMs } from './retry-after.js';
export {
  type AttemptContext,
  isClientError,
  isRetryable,
  type RetryInfo,
  type RetryOptions,
  statusOf,
} from './retry-options.js';
export type { BreakerStateStore, SharedStateEvent } from './shared-state.js';
export { type Policy, retryPolicy, wrap } from './wrap.js';
