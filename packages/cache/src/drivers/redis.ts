import { type Duration, withTimeout } from '@org/core';
import {
  connectRedis,
  isRedisClient,
  REDIS_DEFAULTS,
  type RedisBounds,
  type RedisHandle,
  type RedisOption,
} from '@org/core/redis';
import type { Cluster, Redis, RedisOptions } from 'ioredis';
import type { CacheDriver, DriverCommitArgs, DriverSetArgs, GetOrLockResult } from '../driver.js';
import { CacheError, CacheErrorCode, check, invalidOption } from '../errors.js';
import {
  COMMIT,
  COMMIT_SHA,
  GET_OR_LOCK,
  GET_OR_LOCK_SHA,
  TAG,
  TAG_SHA,
  UNLOCK,
  UNLOCK_SHA,
} from './redis-scripts.js';
import { subscribeOn } from './redis-subscribe.js';

/**
 * Options of `createRedisDriver`. The bounds apply to a client it creates from a URL (through
 * core's `connectRedis`); an app's client is used as is.
 */
export interface RedisDriverOptions {
  /**
   * Rejects a command that gets no answer within this (ioredis `commandTimeout`). Tighter than
   * core's 500 ms: a cache call should give up on Redis sooner than a write of record.
   * @default '250ms'
   */
  commandTimeout?: Duration | undefined;
  /** Gives up a connection attempt after this; also bounds the wait for the subscription. @default '1s' */
  connectTimeout?: Duration | undefined;
  /** Longest wait between reconnect attempts (the delay grows 50 ms per attempt up to it). @default '1s' */
  maxReconnectDelay?: Duration | undefined;
  /** More ioredis options for a client created from a URL; the bounds above win. */
  redisOptions?: RedisOptions | undefined;
}

/** A Redis `CacheDriver`, with its client exposed for advanced use. */
export interface RedisDriver extends CacheDriver {
  /** The ioredis client (resolves once ioredis is loaded, for a URL). */
  client(): Promise<Redis | Cluster>;
}

/** The cache's default bound on one Redis command, in ms. */
export const CACHE_COMMAND_TIMEOUT_MS = 250;

/** What `connectRedis` reports, as the cache's own error: a missing peer keeps its own code. */
function redisFail(message: string): CacheError {
  return new CacheError(
    message.includes('`ioredis` is not installed')
      ? CacheErrorCode.MissingPeer
      : CacheErrorCode.InvalidOption,
    message,
  );
}

/** Checks a `RedisOption` at once, so a bad one throws from the constructor, not later. */
function checkConnection(connection: unknown): asserts connection is RedisOption {
  if (isRedisClient(connection)) return;
  if (typeof connection !== 'string' || !/^rediss?:\/\//i.test(connection)) {
    throw invalidOption(
      '`redis` must be a redis:// or rediss:// URL, or an ioredis Redis or Cluster instance.',
    );
  }
}

/** EVALSHA, falling back to EVAL once when the server does not have the script yet. */
function runScript(
  c: Redis | Cluster,
  script: string,
  sha: string,
  keys: readonly string[],
  ...args: (string | number)[]
): Promise<unknown> {
  return c.evalsha(sha, keys.length, ...keys, ...args).catch((err: unknown) => {
    if (!String((err as Error)?.message).includes('NOSCRIPT')) throw err;
    return c.eval(script, keys.length, ...keys, ...args);
  });
}

const orUndefined = (v: string | null): string | undefined => v ?? undefined;

function isCluster(c: Redis | Cluster): c is Cluster {
  return (c as { isCluster?: boolean }).isCluster === true;
}

function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, '\\$&');
}

/**
 * A `CacheDriver` on Redis (ioredis 5, standalone or Cluster). Given a URL it creates its own
 * client through core's `connectRedis` (bounded options; ioredis loaded only then) and closes it
 * in `close()`; given a client it uses it as is and leaves closing it to the app. Throws
 * `ERR_CACHE_INVALID_OPTION` at once for a connection that is neither.
 */
export function createRedisDriver(
  connection: RedisOption,
  options: RedisDriverOptions = {},
): RedisDriver {
  checkConnection(connection);
  const o = check.object(options, 'options');
  const commandTimeoutMs = check.duration(
    o.commandTimeout,
    'commandTimeout',
    CACHE_COMMAND_TIMEOUT_MS,
    { min: 1 },
  );
  const connectTimeoutMs = check.duration(
    o.connectTimeout,
    'connectTimeout',
    REDIS_DEFAULTS.connectTimeoutMs,
    { min: 1 },
  );
  const bounds: RedisBounds = {
    commandTimeout: commandTimeoutMs,
    connectTimeout: connectTimeoutMs,
    maxReconnectDelay: check.duration(
      o.maxReconnectDelay,
      'maxReconnectDelay',
      REDIS_DEFAULTS.maxReconnectDelayMs,
      { min: 1 },
    ),
    // ioredis waits `disconnectTimeout` (2 s) for a socket to close after disconnect(), on a
    // timer that keeps the process alive, even when the socket is long gone (Redis unreachable,
    // between reconnection attempts): one command's time is enough for a live one.
    redisOptions: { disconnectTimeout: commandTimeoutMs, ...o.redisOptions },
  };
  const owned = typeof connection === 'string';
  let client: Redis | Cluster | undefined = owned ? undefined : connection;
  let handle: RedisHandle | undefined;
  let loading: Promise<Redis | Cluster> | undefined;
  let nextReady: Promise<void> | undefined;
  const subscribers = new Set<Redis | Cluster>();
  let closed = false;
  const closing = new AbortController();

  const load = (): Promise<Redis | Cluster> => {
    loading ??= connectRedis(connection, bounds, redisFail).then((h) => {
      // A client made after close() (close raced the import of ioredis) is not kept open.
      if (closed) h.client.disconnect();
      handle = h;
      client = h.client;
      return h.client;
    });
    return loading;
  };

  const waitReady = (c: Redis | Cluster): Promise<void> => {
    nextReady ??= new Promise<void>((resolve) => {
      c.once('ready', () => {
        nextReady = undefined;
        resolve();
      });
    });
    return nextReady;
  };

  // The client, once it can take commands. While the first connection is being made, commands
  // would fail at once (no offline queue): wait for it; the cache bounds that wait.
  const ready = async (): Promise<Redis | Cluster> => {
    const c = client ?? (await load());
    if (c.status === 'ready') return c;
    if (c.status === 'wait') void c.connect().catch(() => {});
    if (c.status === 'wait' || c.status === 'connecting' || c.status === 'connect') {
      await waitReady(c);
    }
    return c;
  };

  // GETs issued in the same turn of the event loop (a page rendering 50 cached fragments): the
  // first goes out as a GET at once, the rest as one MGET flushed on a microtask, so 50 gets are
  // two commands to write and parse instead of 50, and a lone get pays for no batching at all.
  let batch: { key: string; resolve(v: string | undefined): void; reject(e: unknown): void }[] = [];
  let sentThisTurn = false;
  const endTurn = () => {
    sentThisTurn = false;
  };
  const flush = (c: Redis) => {
    sentThisTurn = false;
    const b = batch;
    batch = [];
    c.mget(b.map((x) => x.key)).then(
      (values) => {
        for (const [i, x] of b.entries()) x.resolve(values[i] ?? undefined);
      },
      (err) => {
        for (const x of b) x.reject(err);
      },
    );
  };
  const batchedGet = (c: Redis, key: string): Promise<string | undefined> => {
    if (!sentThisTurn) {
      sentThisTurn = true;
      queueMicrotask(endTurn);
      return c.get(key).then(orUndefined);
    }
    return new Promise<string | undefined>((resolve, reject) => {
      if (batch.length === 0) queueMicrotask(() => flush(c));
      batch.push({ key, resolve, reject });
    });
  };

  const unlinkAll = async (c: Redis | Cluster, keys: string[]): Promise<void> => {
    if (keys.length === 0) return;
    if (isCluster(c)) {
      await Promise.all(keys.map((k) => c.unlink(k)));
      return;
    }
    for (let i = 0; i < keys.length; i += 500) await c.unlink(...keys.slice(i, i + 500));
  };

  const ttlOf = (ms: number | undefined) =>
    ms === undefined ? undefined : Math.max(1, Math.ceil(ms));
  // Scripts over two or more keys (value, lock, tags) would cross hash slots on a Cluster: there
  // the cache does the same in separate commands.
  const multiKey: Pick<CacheDriver, 'getOrLock' | 'commit'> =
    connection !== undefined && typeof connection !== 'string' && isCluster(connection)
      ? {}
      : {
          async getOrLock(key, lockKey, token, ttlMs): Promise<GetOrLockResult> {
            const c = client?.status === 'ready' ? client : await ready();
            const ms = ttlOf(ttlMs) ?? 1;
            const r = await runScript(c, GET_OR_LOCK, GET_OR_LOCK_SHA, [key, lockKey], token, ms)
              .catch((err: unknown) => refused(err))
              .then(async (res) => {
                if (res !== REFUSED) return res;
                // No Lua for this user: the same in two steps (a miss costs one more round trip).
                const v = await c.get(key);
                if (v !== null) return v;
                return (await c.set(lockKey, token, 'PX', ms, 'NX')) === 'OK' ? 1 : 0;
              });
            return typeof r === 'string'
              ? { value: r, locked: false }
              : { value: undefined, locked: r === 1 };
          },
          async commit(key, value, opts: DriverCommitArgs) {
            const c = client?.status === 'ready' ? client : await ready();
            const keys = [key, opts.unlock?.key ?? key, ...(opts.tags ?? [])];
            const done = await runScript(
              c,
              COMMIT,
              COMMIT_SHA,
              keys,
              value,
              ttlOf(opts.ttlMs) ?? 0,
              opts.unlock?.token ?? '',
              opts.publish?.channel ?? '',
              opts.publish?.message ?? '',
            ).catch((err: unknown) => refused(err));
            if (done !== REFUSED) return;
            // No Lua for this user: set and publish; the lock is left to expire, and tags (kept
            // by a script too) fail the call rather than go unindexed.
            await Promise.all([
              driver.set(key, value, { ttlMs: opts.ttlMs, tags: opts.tags }),
              opts.publish ? c.publish(opts.publish.channel, opts.publish.message) : undefined,
            ]);
          },
        };
  // A server or ACL that refuses scripts (EVALSHA/EVAL): these two members go, and the cache
  // uses plain commands from then on, as it would with a driver without them.
  const REFUSED = Symbol('refused');
  const refused = (err: unknown): typeof REFUSED => {
    if (!/NOPERM|unknown command|not allowed|disabled/i.test(String((err as Error)?.message))) {
      throw err;
    }
    delete driver.getOrLock;
    delete driver.commit;
    return REFUSED;
  };

  const driver: RedisDriver = {
    name: 'redis',
    client: ready,
    ...multiKey,
    isReady: () => client === undefined || client.status === 'ready' || client.status === 'wait',
    // ioredis arms `commandTimeout` on every command it is sent; on a ready standalone
    // connection nothing else waits before the command goes out.
    commandDeadline: () =>
      client !== undefined && client.status === 'ready' && !isCluster(client)
        ? client.options.commandTimeout
        : undefined,
    get(key) {
      // The hot path of every L2 hit: no extra async frame when the client is ready.
      const c = client;
      if (c !== undefined && c.status === 'ready') {
        return isCluster(c) ? c.get(key).then(orUndefined) : batchedGet(c, key);
      }
      return ready().then((r) => r.get(key).then(orUndefined));
    },
    async set(key, value, opts?: DriverSetArgs) {
      const c = client?.status === 'ready' ? client : await ready();
      const ttl = ttlOf(opts?.ttlMs);
      const pending: Promise<unknown>[] = [
        ttl === undefined ? c.set(key, value) : c.set(key, value, 'PX', ttl),
      ];
      for (const tag of opts?.tags ?? [])
        pending.push(runScript(c, TAG, TAG_SHA, [tag], key, ttl ?? 0));
      await Promise.all(pending);
    },
    async delete(key) {
      const c = await ready();
      return (await c.unlink(key)) > 0;
    },
    async clear(prefix) {
      const c = await ready();
      const nodes = isCluster(c) ? c.nodes('master') : [c];
      const match = `${globEscape(prefix)}*`;
      for (const node of nodes) {
        let cursor = '0';
        do {
          const [next, keys] = await node.scan(cursor, 'MATCH', match, 'COUNT', 1000);
          cursor = next;
          await unlinkAll(c, keys);
        } while (cursor !== '0');
      }
    },
    async deleteByTag(tag) {
      const c = await ready();
      const res = await c.multi().smembers(tag).del(tag).exec();
      const members = (res?.[0]?.[1] as string[] | undefined) ?? [];
      // A tag set also holds keys that expired or were deleted since; report only real deletes.
      const gone = await Promise.all(members.map((k) => c.unlink(k)));
      return members.filter((_, i) => gone[i] === 1);
    },
    async lock(key, token, ttlMs) {
      const c = await ready();
      return (await c.set(key, token, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX')) === 'OK';
    },
    async unlock(key, token) {
      const c = await ready();
      return (await runScript(c, UNLOCK, UNLOCK_SHA, [key], token)) === 1;
    },
    async publish(channel, message) {
      const c = client?.status === 'ready' ? client : await ready();
      await c.publish(channel, message);
    },
    async subscribe(channel, handlers) {
      const base = client ?? (await load());
      return subscribeOn(base, channel, handlers, connectTimeoutMs, subscribers, closing.signal);
    },
    async ping() {
      const c = client?.status === 'ready' ? client : await ready();
      await c.ping();
    },
    async close() {
      if (closed) return;
      closed = true;
      closing.abort();
      for (const sub of subscribers) sub.disconnect();
      subscribers.clear();
      if (!owned || client === undefined || handle === undefined) return;
      // QUIT on a frozen Redis would wait forever: give it one command's time.
      await withTimeout(() => handle?.close(), { timeoutMs: commandTimeoutMs }).catch(() => {});
      client.disconnect();
    },
  };
  return driver;
}
