export type { Decision } from './algorithms.js';
export { createMemoryStore, type MemoryStore, type MemoryStoreOptions } from './drivers/memory.js';
export {
  createRedisStore,
  REDIS_TIMEOUT_MS,
  type RedisStore,
  type RedisStoreOptions,
} from './drivers/redis.js';
export { isRateLimitError, RateLimitError, RateLimitErrorCode } from './errors.js';
export { diagnosticsChannels, type RateLimitEventName, type RateLimitEvents } from './events.js';
export { type HeaderStyle, rateLimitHeaders } from './http/headers.js';
export { type ResponseLike, rateLimitNode } from './http/node.js';
export type { MiddlewareOptions } from './http/outcome.js';
export {
  apiKeyKey,
  clientIp,
  ipKey,
  type RequestLike,
  type TrustProxyOptions,
  userKey,
} from './identify.js';
export { idMatcher, ipId } from './ip.js';
export { createRateLimiter } from './limiter.js';
export type { RateLimitStore } from './store.js';
export {
  type Algorithm,
  defineTiers,
  type FailurePolicy,
  type Rule,
  type TierOptions,
  type TierSettings,
} from './tiers.js';
export type {
  LimitOptions,
  RateLimiter,
  RateLimiterOptions,
  RateLimitHealth,
  RateLimitResult,
  TierInfo,
} from './types.js';
