import { once } from 'node:events';
import { abortable, type Duration } from '@org/core';
import { connectRedis, type RedisHandle, type RedisOption } from '@org/core/redis';
import { check, invalidOption, missingPeer, refuseRenamed } from '../errors.js';
import type { HealthCheck } from '../types.js';

/** What the Redis check needs of a client: `ping()`. An ioredis `Redis` or `Cluster` fits. */
export interface RedisPingable {
  ping(): Promise<string>;
  /** ioredis' connection status; when present and not usable the check fails at once. */
  readonly status?: string;
}

/** Options of `redisCheck`. */
export interface RedisCheckOptions {
  /**
   * Redis as everywhere in the SDK: a `redis://` or `rediss://` URL (the check creates a client
   * with core's bounded defaults on first use, and its `close()`, called by the Health's
   * `close()`, quits it), or an ioredis `Redis` or `Cluster` the service already holds (or any
   * client with `ping()`), used as is and never closed by the check.
   */
  redis: RedisOption | RedisPingable;
  /** @default 800 (ms; createHealth's `timeout`) */
  timeout?: Duration | undefined;
  /** @default true */
  critical?: boolean | undefined;
}

const DOWN = new Set(['reconnecting', 'end', 'close']);
// Still connecting: wait for `ready` (within the check's timeout) rather than fail the first
// report after startup. (`wait` is a lazyConnect client: its PING connects it.)
const CONNECTING = new Set(['connecting', 'connect']);

const fail = (message: string) => invalidOption(message);
const missing = (message: string) => missingPeer(message);

function isEmitter(c: unknown): c is import('node:events').EventEmitter {
  return typeof (c as { once?: unknown }).once === 'function';
}

/**
 * Checks Redis with `PING`. A client that is reconnecting (or closed) fails at once instead of
 * queueing; one still connecting is waited for.
 */
export function redisCheck(options: RedisCheckOptions): HealthCheck {
  const o = check.object(options, 'options');
  refuseRenamed(o, { client: 'redis' });
  const given = o.redis;
  if (typeof given === 'string') {
    if (!/^rediss?:\/\//i.test(given)) {
      throw invalidOption(
        '`redis` must be a redis:// or rediss:// URL, or an ioredis Redis or Cluster instance',
      );
    }
  } else if (typeof (given as RedisPingable | undefined)?.ping !== 'function') {
    throw invalidOption(
      '`redis` must be a redis:// or rediss:// URL, or an ioredis Redis or Cluster instance',
    );
  }
  const timeout = check.duration(o.timeout, 'timeout', undefined, { min: 1 });
  const critical = check.boolean(o.critical, 'critical');
  let handle: Promise<RedisHandle> | undefined;
  let closed = false;

  async function client(signal: AbortSignal): Promise<RedisPingable> {
    if (typeof given !== 'string') return given;
    handle ??= connectRedis(given, {}, fail, missing);
    return (await abortable(handle, signal)).client;
  }

  return {
    componentType: 'datastore',
    ...(timeout === undefined ? {} : { timeout }),
    ...(critical === undefined ? {} : { critical }),
    async check(signal) {
      if (closed) return { status: 'fail', reason: 'the check was closed' };
      const c = await client(signal);
      const status = c.status;
      if (status !== undefined && DOWN.has(status)) {
        return { status: 'fail', reason: `connection ${status}` };
      }
      if (status !== undefined && CONNECTING.has(status) && isEmitter(c)) {
        await once(c, 'ready', { signal });
      }
      const reply = await c.ping();
      if (reply !== 'PONG') return { status: 'fail', reason: 'unexpected PING reply' };
      return undefined;
    },
    async close() {
      // An app's client is the app's: nothing to release, and the check keeps working.
      if (typeof given !== 'string') return;
      closed = true;
      const h = await handle?.catch(() => undefined);
      await h?.close();
    },
  };
}
