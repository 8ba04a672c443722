export type { Clock, Duration, Unsubscribe } from '@org/core';
export { createCache } from './cache.js';
export type {
  BusHandlers,
  CacheDriver,
  DriverCommitArgs,
  DriverSetArgs,
  GetOrLockResult,
} from './driver.js';
export {
  createMemoryDriver,
  type MemoryDriver,
  type MemoryDriverOptions,
} from './drivers/memory.js';
export { CacheError, CacheErrorCode, isCacheError } from './errors.js';
export {
  type CacheBackendError,
  type CacheEventName,
  type CacheEvents,
  type CacheTier,
  diagnosticsChannels,
} from './events.js';
export { type CacheEnvOptions, createCacheFromEnv } from './from-env.js';
export { jsonSerializer, type Serializer } from './serializer.js';
export { type Ttl, ttlEnvName } from './ttl.js';
export type {
  Cache,
  CacheHealth,
  CacheOptions,
  CacheTimeouts,
  GetOrSetOptions,
  LoaderContext,
  MemoryOptions,
  SetOptions,
  WaitOptions,
} from './types.js';
