export { type RedisCheckOptions, type RedisPingable, redisCheck } from './drivers/redis.js';
