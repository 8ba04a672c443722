export {
  createRedisStateStore,
  type RedisStateStore,
  type RedisStateStoreOptions,
} from './drivers/redis-state.js';
