export type { RedisOption } from '@org/core/redis';
export {
  createRedisDriver,
  type RedisDriver,
  type RedisDriverOptions,
} from './drivers/redis.js';
