export { createCache } from './cache.js';
export type {
  BusHandlers,
  CacheDriver,
  DriverCommitOptions,
  DriverSetOptions,
  GetOrLockResult,
} from './driver.js';
export {
  createMemoryDriver,
  type MemoryDriver,
  type MemoryDriverOptions,
} from './drivers/memory.js';
export { CacheError, type CacheErrorCode, isCacheError } from './errors.js';
export {
  type CacheEventName,
  type CacheEvents,
  type CacheTier,
  diagnosticsChannels,
  type Unsubscribe,
} from './events.js';
export type { Clock } from './memory-store.js';
export { jsonSerializer, type Serializer } from './serializer.js';
export { type DefaultTtlPreset, defaultTtlPresets, type Ttl, ttlEnvName } from './ttl.js';
export type {
  Cache,
  CacheHealth,
  CacheOptions,
  CacheTimeouts,
  GetOrSetOptions,
  LoaderContext,
  MemoryOptions,
  SetOptions,
} from './types.js';
