import { type Clock, TimeoutError } from '@org/core';
import {
  connectRedis,
  isRedisClient,
  REDIS_DEFAULTS,
  type RedisHandle,
  type RedisOption,
} from '@org/core/redis';
import type { Cluster, Redis } from 'ioredis';
import { invalidOption, KeyRotationError, KeyRotationErrorCode } from '../errors.js';

/** Options every Redis store of this package takes. */
export interface RedisStoreOptions {
  /**
   * Redis: a `redis://` or `rediss://` URL (the store creates a client with core's bounded
   * defaults when first used, and `close()` quits it), or an ioredis `Redis` or `Cluster` you
   * hold (used as is, never closed by the store).
   * @default 'redis://127.0.0.1:6379'
   */
  redis?: RedisOption | undefined;
  /**
   * Prefix of every key and channel. For Redis Cluster put a hash tag in it (`'keyring:{app}:'`)
   * so that the keys of one ring share a slot.
   */
  prefix?: string | undefined;
}

/** Options of `createRedisRefreshTokenStore`. */
export interface RedisRefreshTokenStoreOptions extends RedisStoreOptions {
  /** The time source the stored expiries are turned into Redis TTLs against. @default systemClock */
  clock?: Clock | undefined;
}

export type RedisClient = Redis | Cluster;

/** A Redis connection made on first use, and released by `close()`. */
export interface LazyRedis {
  /** The client, connected (or given up waiting for after the connect timeout). */
  client(): Promise<RedisClient>;
  /**
   * Runs one command; its client-side command timeout (of a client the store created) rejects
   * with core's `TimeoutError`.
   */
  run<T>(command: (client: RedisClient) => Promise<T>): Promise<T>;
  /** Quits the client when the store created it; idempotent, never throws. */
  close(): Promise<void>;
}

const DEFAULT_URL = 'redis://127.0.0.1:6379';

/** Resolves once `client` is ready, or after `ms` (its commands then fail fast, unqueued). */
function ready(client: RedisClient, ms: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      client.off('ready', done);
      resolve();
    };
    // Bounds the caller's first command, so it is not unref'd.
    const timer = setTimeout(done, ms);
    client.once('ready', done);
  });
}

/**
 * The connection of a store: checked now (a bad `redis` option throws
 * `ERR_KEY_ROTATION_INVALID_OPTION` at construction), made through core's `connectRedis` on first
 * use. A client the store creates refuses commands while disconnected (no offline queue), so the
 * first use waits for it to be ready, at most core's connect timeout.
 */
export function lazyRedis(option: RedisOption | undefined): LazyRedis {
  const redis = option ?? DEFAULT_URL;
  if (!isRedisClient(redis) && !(typeof redis === 'string' && /^rediss?:\/\//i.test(redis))) {
    throw invalidOption(
      '`redis` must be a redis:// or rediss:// URL, or an ioredis Redis or Cluster instance',
    );
  }
  let handle: Promise<RedisHandle> | undefined;
  let closing: Promise<void> | undefined;
  const lazy: LazyRedis = {
    async run(command) {
      const h = await lazy.client().then(() => handle!);
      try {
        return await command(h.client);
      } catch (err) {
        // ioredis's commandTimeout, which core's bounded options set on a client made from a URL.
        if (h.owned && err instanceof Error && err.message === 'Command timed out') {
          throw new TimeoutError(REDIS_DEFAULTS.commandTimeoutMs, 'A Redis command', {
            cause: err,
            hint: 'check that Redis is up and not overloaded',
          });
        }
        throw err;
      }
    },
    async client() {
      if (closing && !handle) {
        throw new KeyRotationError(
          KeyRotationErrorCode.Store,
          'the Redis store is closed: create another one',
        );
      }
      handle ??= connectRedis(redis, {}, invalidOption).then(async (h) => {
        if (h.owned) await ready(h.client, REDIS_DEFAULTS.connectTimeoutMs * 2);
        return h;
      });
      return (await handle).client;
    },
    close() {
      closing ??= (async () => {
        const h = await handle?.catch(() => undefined);
        await h?.close();
      })();
      return closing;
    },
  };
  return lazy;
}

/**
 * A subscription to one channel on a connection of its own (a duplicate of the store's client),
 * made in the background: ioredis subscribes again after a reconnection. `stop()` disconnects it.
 */
export function subscribeChannel(
  connection: LazyRedis,
  channel: string,
  onMessage: () => void,
): { stop(): void } {
  let stopped = false;
  let sub: RedisClient | undefined;
  void connection.client().then(
    (client) => {
      if (stopped) return;
      const s = client.duplicate();
      sub = s;
      s.on('error', () => undefined);
      s.on('message', (ch: string) => {
        if (ch === channel) onMessage();
      });
      let subscribed = false;
      const attempt = () => {
        if (subscribed || stopped) return;
        s.subscribe(channel).then(
          () => {
            subscribed = true;
          },
          () => undefined,
        );
      };
      s.on('ready', attempt);
      if (s.status === 'ready') attempt();
      else if (s.status === 'wait') s.connect().catch(() => undefined);
    },
    () => undefined,
  );
  return {
    stop() {
      stopped = true;
      sub?.disconnect();
      sub = undefined;
    },
  };
}
