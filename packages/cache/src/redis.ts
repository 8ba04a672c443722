export {
  boundedRedisOptions,
  createRedisDriver,
  type RedisConnection,
  type RedisDriver,
  type RedisDriverOptions,
} from './drivers/redis.js';
