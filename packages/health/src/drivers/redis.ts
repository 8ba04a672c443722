import type { HealthCheck } from '../types.js';

/** What the Redis check needs of an ioredis client (node-redis fits too): `ping()`. */
export interface RedisPingable {
  ping(): Promise<string>;
  /** ioredis' connection status; when present and not usable the check fails at once. */
  readonly status?: string;
}

/** Options of `redisCheck`. */
export interface RedisCheckOptions {
  /** An ioredis client (or Cluster) the service already holds. */
  client: RedisPingable;
  /** @default 800 (the createHealth default) */
  timeout?: number;
  /** @default true */
  critical?: boolean;
}

const DOWN = new Set(['reconnecting', 'end', 'close']);

/** Checks Redis with `PING`. A client that is reconnecting fails at once instead of queueing. */
export function redisCheck(options: RedisCheckOptions): HealthCheck {
  return {
    componentType: 'datastore',
    ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
    ...(options.critical === undefined ? {} : { critical: options.critical }),
    async check() {
      const status = options.client.status;
      if (status !== undefined && DOWN.has(status)) {
        return { status: 'fail', reason: `connection ${status}` };
      }
      const reply = await options.client.ping();
      if (reply !== 'PONG') return { status: 'fail', reason: 'unexpected PING reply' };
      return undefined;
    },
  };
}
