export type {
  RedisConnectionOptions,
  RedisKeyStoreOptions,
  RedisRefreshTokenStoreOptions,
} from './drivers/redis.js';
export { createRedisKeyStore, createRedisRefreshTokenStore } from './drivers/redis.js';
