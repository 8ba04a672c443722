import { randomUUID } from 'node:crypto';
import { type Clock, type Duration, systemClock, type Unsubscribe, withTimeout } from '@org/core';
import { connectRedis, type RedisOption } from '@org/core/redis';
import type { Cluster, Redis } from 'ioredis';
import { check, invalidOption } from '../errors.js';
import type { BreakerStateStore, SharedStateEvent } from '../shared-state.js';
import { telemetry } from '../telemetry.js';

/** Options of `createRedisStateStore`. */
export interface RedisStateStoreOptions {
  /**
   * A `redis://` URL (the store creates a bounded client and closes it in `close()`), or an
   * ioredis `Redis` or `Cluster` the app already has (used as is and left open; it is
   * duplicated for the subscription).
   */
  redis: RedisOption;
  /** Prefix of every key and of the channel. @default "org:breaker" */
  prefix?: string | undefined;
  /** Bound on every Redis command. @default '500ms' */
  timeout?: Duration | undefined;
  /** This instance's id. @default a random UUID */
  instanceId?: string | undefined;
  /** The time source open periods are measured against. @default systemClock */
  clock?: Clock | undefined;
}

/** A BreakerStateStore on Redis, and `close()` for its connections. */
export interface RedisStateStore extends BreakerStateStore {
  load(name: string): Promise<SharedStateEvent | undefined>;
  releaseProbe(name: string): Promise<void>;
  /** Closes the subscription and a client the store created; an app's client is left open. */
  close(): Promise<void>;
}

// Deletes the probe lock only if this instance still holds it.
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

const fail = (message: string) => invalidOption(message);

/**
 * Shares breaker state through Redis: an open breaker is written under a key that expires when
 * its open period does and announced on a channel, so the other instances open at once and a
 * restarted one reads it back; the half-open probe is a `SET NX PX` lock, so one instance at a
 * time probes. Every command is bounded by `timeout` (a slow one rejects with core's
 * `TimeoutError`); when Redis is down the breakers decide alone and report `storeError`.
 */
export async function createRedisStateStore(
  options: RedisStateStoreOptions,
): Promise<RedisStateStore> {
  check.object(options, 'createRedisStateStore options');
  if (options.redis === undefined) {
    throw invalidOption(
      'createRedisStateStore needs `redis`: a redis:// URL, or an ioredis Redis or Cluster.',
    );
  }
  const prefix = check.string(options.prefix, 'prefix', 'org:breaker');
  const timeoutMs = check.duration(options.timeout, 'timeout', '500ms', { min: 1 });
  const instanceId = check.string(options.instanceId, 'instanceId') ?? randomUUID();
  const clock = options.clock ?? systemClock;
  if (typeof clock?.now !== 'function') {
    throw invalidOption('`clock` must be a Clock: an object with now().');
  }
  const handle = await connectRedis(
    options.redis,
    { commandTimeout: timeoutMs, connectTimeout: Math.max(timeoutMs, 1_000) },
    fail,
  );
  const client = handle.client;
  // Each command runs in a client span `breaker store <command>`, a child of the caller's.
  const bounded = <T>(what: string, run: (signal: AbortSignal) => PromiseLike<T>): Promise<T> =>
    telemetry.withSpan(
      `breaker store ${what}`,
      { 'db.system.name': 'redis', 'db.operation.name': what },
      () =>
        withTimeout(run, {
          timeoutMs,
          what: `Redis ${what}`,
          hint: "raise the state store's `timeout` if Redis is legitimately slower",
        }),
      { kind: 'client' },
    );

  const channel = `${prefix}:events`;
  // The subscription queues its SUBSCRIBE until connected, and is never bounded by a command
  // timeout: it waits for messages.
  const subscriber: Redis | Cluster = client.isCluster
    ? (client as Cluster).duplicate(undefined, { enableOfflineQueue: true })
    : (client as Redis).duplicate({ enableOfflineQueue: true, commandTimeout: undefined });
  subscriber.on('error', () => {});
  const listeners = new Map<string, Set<(event: SharedStateEvent) => void>>();
  subscriber.on('message', (ch: string, message: string) => {
    if (ch !== channel) return;
    try {
      const { name, event } = JSON.parse(message) as { name: string; event: SharedStateEvent };
      for (const l of [...(listeners.get(name) ?? [])]) l(event);
    } catch {
      // A message that is not ours on our channel is ignored.
    }
  });
  // The subscriber's connection can be ready before the client's, and the client queues nothing
  // while it connects: a breaker that opened in between would lose its publish. So the store is
  // handed out once both are connected, or after `timeout` when Redis is down (breakers then
  // decide alone, and ioredis re-subscribes on reconnect).
  await Promise.all([
    bounded('SUBSCRIBE', () => subscriber.subscribe(channel)).catch(() => {}),
    handle.owned ? handle.ready(timeoutMs) : undefined,
  ]);

  const stateKey = (name: string) => `${prefix}:state:${name}`;
  const probeKey = (name: string) => `${prefix}:probe:${name}`;
  let closing: Promise<void> | undefined;

  return {
    instanceId,
    async publish(name, event) {
      const message = JSON.stringify({ name, event });
      if (event.state === 'open') {
        const ttl = Math.max(1, Math.ceil(event.openUntil - clock.now()));
        await bounded('MULTI SET PUBLISH', () =>
          client
            .multi()
            .set(stateKey(name), JSON.stringify(event), 'PX', ttl)
            .publish(channel, message)
            .exec(),
        );
      } else {
        await bounded('MULTI DEL PUBLISH', () =>
          client.multi().del(stateKey(name)).publish(channel, message).exec(),
        );
      }
    },
    subscribe(name, listener): Unsubscribe {
      let set = listeners.get(name);
      if (!set) {
        set = new Set();
        listeners.set(name, set);
      }
      const own = set;
      const entry = (e: SharedStateEvent) => listener(e);
      own.add(entry);
      return () => {
        own.delete(entry);
      };
    },
    async load(name) {
      const raw = await bounded('GET', () => client.get(stateKey(name)));
      return raw ? (JSON.parse(raw) as SharedStateEvent) : undefined;
    },
    async acquireProbe(name, ttlMs) {
      const ok = await bounded('SET NX', () =>
        client.set(probeKey(name), instanceId, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX'),
      );
      return ok === 'OK';
    },
    async releaseProbe(name) {
      await bounded('EVAL', () => client.eval(RELEASE, 1, probeKey(name), instanceId));
    },
    close() {
      closing ??= (async () => {
        for (const set of listeners.values()) set.clear();
        listeners.clear();
        subscriber.disconnect();
        await handle.close();
      })();
      return closing;
    },
  };
}
