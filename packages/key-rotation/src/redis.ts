export type { RedisConnectionOptions, RedisKeyStoreOptions } from './drivers/redis.js';
export { createRedisKeyStore } from './drivers/redis.js';
