export type { RedisKeyStoreOptions } from './drivers/redis.js';
export { createRedisKeyStore, createRedisRefreshTokenStore } from './drivers/redis.js';
export type {
  RedisRefreshTokenStoreOptions,
  RedisStoreOptions,
} from './drivers/redis-connection.js';
