import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { Redis, RedisOptions } from 'ioredis';
import { InvalidOptionError } from '../errors.js';
import type { Unsubscribe } from '../events.js';
import type { BreakerStateStore, SharedStateEvent } from '../shared-state.js';
import { checkNumber } from '../validate.js';

/** Options of `createRedisStateStore`. */
export interface RedisStateStoreOptions {
  /** A `redis://` URL, or an ioredis client the app already has (it is duplicated for pub/sub). */
  redis: string | Redis;
  /** Prefix of every key and of the channel. @default "org:breaker" */
  prefix?: string;
  /** Bound on every Redis command, in milliseconds. @default 500 */
  timeout?: number;
  /** This instance's id. @default a random UUID */
  instanceId?: string;
}

/** A BreakerStateStore on Redis, and `close()` for its connections. */
export interface RedisStateStore extends BreakerStateStore {
  close(): Promise<void>;
}

// Deletes the probe lock only if this instance still holds it.
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/**
 * Shares breaker state through Redis: an open breaker is written under a key that expires when
 * its open period does and announced on a channel, so the other instances open at once and a
 * restarted one reads it back; the half-open probe is a `SET NX PX` lock, so one instance at a
 * time probes. Every command is bounded by `timeout`; when Redis is down the breakers decide
 * alone and report `storeError`.
 */
export async function createRedisStateStore(
  options: RedisStateStoreOptions,
): Promise<RedisStateStore> {
  if (
    !options ||
    (typeof options.redis !== 'string' && typeof options.redis?.duplicate !== 'function')
  ) {
    throw new InvalidOptionError(
      'createRedisStateStore needs `redis`: a redis:// URL or an ioredis client.',
    );
  }
  const prefix = options.prefix ?? 'org:breaker';
  const timeout = checkNumber('timeout', options.timeout ?? 500, 1);
  const instanceId = options.instanceId ?? randomUUID();
  const channel = `${prefix}:events`;
  const owned = typeof options.redis === 'string';
  let client: Redis;
  if (typeof options.redis === 'string') {
    const { Redis: RedisClient } = await import('ioredis');
    const connection: RedisOptions = {
      // Fail fast rather than queue commands behind a dead connection.
      enableOfflineQueue: false,
      commandTimeout: timeout,
      maxRetriesPerRequest: 1,
      connectTimeout: Math.max(timeout, 1_000),
      lazyConnect: false,
    };
    client = new RedisClient(options.redis, connection);
    client.on('error', () => {});
  } else client = options.redis;
  const subscriber = client.duplicate({ enableOfflineQueue: true, commandTimeout: undefined });
  subscriber.on('error', () => {});
  const listeners = new Map<string, Set<(event: SharedStateEvent) => void>>();
  subscriber.on('message', (ch: string, message: string) => {
    if (ch !== channel) return;
    try {
      const { name, event } = JSON.parse(message) as { name: string; event: SharedStateEvent };
      for (const l of listeners.get(name) ?? []) l(event);
    } catch {
      // A message that is not ours on our channel is ignored.
    }
  });
  // The subscriber's connection can be ready before the client's, and the client queues nothing
  // while it connects: a breaker that opened in between would lose its publish. So the store is
  // handed out once both are connected, or after `timeout` when Redis is down (breakers then
  // decide alone, and ioredis re-subscribes on reconnect).
  const clientReady =
    owned && client.status !== 'ready' ? once(client, 'ready') : Promise.resolve([]);
  await Promise.all([
    bounded(subscriber.subscribe(channel), timeout).catch(() => {}),
    bounded(clientReady, timeout).catch(() => {}),
  ]);

  const stateKey = (name: string) => `${prefix}:state:${name}`;
  const probeKey = (name: string) => `${prefix}:probe:${name}`;

  return {
    instanceId,
    async publish(name, event) {
      const message = JSON.stringify({ name, event });
      if (event.state === 'open') {
        const ttl = Math.max(1, Math.ceil(event.openUntil - Date.now()));
        await bounded(
          client
            .multi()
            .set(stateKey(name), JSON.stringify(event), 'PX', ttl)
            .publish(channel, message)
            .exec(),
          timeout,
        );
      } else {
        await bounded(client.multi().del(stateKey(name)).publish(channel, message).exec(), timeout);
      }
    },
    subscribe(name, listener): Unsubscribe {
      let set = listeners.get(name);
      if (!set) {
        set = new Set();
        listeners.set(name, set);
      }
      set.add(listener);
      return () => set.delete(listener);
    },
    async load(name) {
      const raw = await bounded(client.get(stateKey(name)), timeout);
      return raw ? (JSON.parse(raw) as SharedStateEvent) : undefined;
    },
    async acquireProbe(name, ttlMs) {
      const ok = await bounded(
        client.set(probeKey(name), instanceId, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX'),
        timeout,
      );
      return ok === 'OK';
    },
    async releaseProbe(name) {
      await bounded(client.eval(RELEASE, 1, probeKey(name), instanceId), timeout);
    },
    async close() {
      listeners.clear();
      subscriber.disconnect();
      if (owned) client.disconnect();
    },
  };
}

/** Rejects when `promise` takes longer than `ms`: a user's client may have no command timeout. */
function bounded<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
