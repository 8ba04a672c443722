import type { Clock, Duration, Unsubscribe } from '@org/core';
import type { RedisOption } from '@org/core/redis';
import type { CacheDriver } from './driver.js';
import type { CacheEventName, CacheEvents } from './events.js';
import type { Serializer } from './serializer.js';
import type { Ttl } from './ttl.js';

// Every duration below is a core `Duration`: milliseconds as a number, or a string with its unit
// ('250ms', '30s', '15m', '12h', '7d'). A bare number is never seconds.

/** Bounds and lifetime of the in-process L1. */
export interface MemoryOptions {
  /** Most entries kept; the least recently used go first. @default 10_000 */
  maxEntries?: number | undefined;
  /** Most bytes kept (keys and serialized values, 2 bytes per UTF-16 unit). @default 64 MiB */
  maxBytes?: number | undefined;
  /**
   * Longest an entry lives in L1, when shorter than its TTL (a Duration). A short L1 TTL bounds
   * how stale an instance can be if an invalidation is ever lost. @default the entry's TTL
   */
  ttl?: Duration | undefined;
}

/** Time bounds, each a Duration. */
export interface CacheTimeouts {
  /** Bound on each Redis command; past it the call goes on without L2. @default '250ms' */
  command?: Duration | undefined;
  /** Bound on connecting to Redis (for a client made from a URL), and on `ready()`. @default '1s' */
  connect?: Duration | undefined;
  /**
   * With a stale value at hand (within `grace`), `getOrSet` returns it once the loader has run
   * this long, and lets the loader finish in the background. `0` = stale-while-revalidate.
   * @default none (wait for the loader)
   */
  soft?: Duration | undefined;
  /**
   * Aborts the loader's signal and gives up on it after this: the caller gets core's
   * `TimeoutError` (`ERR_TIMEOUT`), or the stale value within grace. @default none
   */
  hard?: Duration | undefined;
  /** Lifetime of the cross-instance loader lock. @default '5s' */
  lock?: Duration | undefined;
  /** How long `getOrSet` waits for another instance's loader before running its own. @default `lock` */
  lockWait?: Duration | undefined;
}

/** Options of `createCache`. `P` is the names of the app's TTL presets. */
export interface CacheOptions<P extends string = never> {
  /**
   * Redis as L2: a URL (`redis://…`, `rediss://…`; ioredis is then loaded on demand and the
   * client created with core's bounded options and closed by `close()`), or an ioredis
   * `Redis`/`Cluster` the app holds (used as is, left open). `undefined` or `''` (an unset or
   * empty `REDIS_URL`) = no Redis. @default none (memory only)
   */
  redis?: RedisOption | undefined;
  /** Any other L2 backend. Ignored when `redis` is given. */
  driver?: CacheDriver | undefined;
  /** Prefix of every key, and scope of `clear()`. @default 'cache' */
  namespace?: string | undefined;
  /**
   * The app's TTL presets, by name: `{ pricing: '30m', session: '1m' }`. Calls name them in
   * `ttl`. A name may not itself read as a duration. @default none
   */
  presets?: Readonly<Record<P, Duration>> | undefined;
  /** TTL of a call that names none: a Duration or a preset name. @default '5m' */
  ttl?: Duration | NoInfer<P> | undefined;
  /** L1 bounds, or `false` for no L1. @default { maxEntries: 10_000, maxBytes: 64 MiB } */
  memory?: MemoryOptions | false | undefined;
  /** Time bounds. */
  timeouts?: CacheTimeouts | undefined;
  /** Turns values into strings. @default JSON keeping undefined and Dates */
  serializer?: Serializer | undefined;
  /** How long past its TTL a value may still be served when the loader fails. @default 0 */
  grace?: Duration | undefined;
  /** Fraction by which TTLs are shortened at random, so entries do not all expire at once. @default 0.1 */
  jitter?: number | undefined;
  /**
   * Fraction of the TTL after which a `getOrSet` hit starts a background refresh (0.8 = in the
   * last fifth). @default none
   */
  earlyRefresh?: number | undefined;
  /**
   * `getOrSet` loads take a Redis lock, so that concurrent calls on several instances run the
   * loader once between them (the others wait for its value). `false`: once per instance (per
   * process, as without Redis), and a cold key costs a plain `GET` and `SET` instead of two
   * scripts. @default true
   */
  crossInstanceLock?: boolean | undefined;
  /**
   * `true`: the callers of one shared `getOrSet` load (a stampede on a key, or the callers that
   * joined one L2 read) all receive the same deep-frozen value instead of a copy each, so a
   * mutation throws (strict mode) instead of costing a copy per caller. Dates in it are frozen
   * but `setTime` still changes them. `get` and L1 hits still return copies. @default false
   */
  sharedResults?: boolean | undefined;
  /** Publish and listen for invalidations so other instances drop their L1 copy. @default true */
  invalidation?: boolean | undefined;
  /**
   * Writes (`set`, `getOrSet` loads) announce themselves to the other instances in at most one
   * message per this long: a write after a quiet window sends its message with the write (one
   * round trip, no delay); the writes that follow within the window are named together in one
   * message when it closes, sent after they reached Redis. Each message costs Redis a command and
   * a delivery to every instance (this one included), so a burst of writes pays for one per
   * window, and other instances drop their L1 copies up to this much later. `0` = every write
   * sends its own message with the write. At most '1s'. @default '5ms'
   */
  invalidationWindow?: Duration | undefined;
  /** Consecutive L2 failures before L2 is skipped (a closed connection counts at once). @default 3 */
  failureThreshold?: number | undefined;
  /** Interval of the recovery probe while L2 is skipped. @default '500ms' */
  probeInterval?: Duration | undefined;
  /**
   * Most keys, tags and cleared namespaces remembered from `set`, `getOrSet` loads, `delete`,
   * `deleteByTag` and `clear` made while L2 is degraded (they reach only L1 then). On recovery
   * they are deleted or invalidated in Redis, and announced to the other instances, before L2
   * is read again, so that Redis cannot serve what was overwritten or deleted during the outage.
   * Past this many, recovery clears the whole namespace in Redis instead. @default 1000
   */
  outageJournal?: number | undefined;
  /** Time source for TTLs (core's `Clock`). @default systemClock */
  clock?: Clock | undefined;
  /** Randomness for jitter, in [0, 1). @default Math.random */
  random?: (() => number) | undefined;
}

/** Options of `set`. */
export interface SetOptions<P extends string = never> {
  /** A Duration, or a preset name. @default the cache's `ttl` */
  ttl?: Ttl<P> | undefined;
  /** How long past the TTL the value may still be served by `getOrSet` on failure. */
  grace?: Duration | undefined;
  /** Tags, for `deleteByTag`. */
  tags?: readonly string[] | undefined;
  /**
   * L1 settings of this entry: `ttl` caps how long this instance keeps it in L1 (`0` = not kept
   * in L1), in place of the cache's `memory.ttl`; never past the entry's TTL (plus grace). It
   * applies where this call stores the entry: its `set`, or the L1 fill of a `getOrSet` (from
   * the loader or from L2). @default the cache's `memory.ttl`
   */
  memory?: { ttl?: Duration | undefined } | undefined;
}

/** What the loader of `getOrSet` receives. */
export interface LoaderContext {
  /** The key being loaded (without namespace). */
  key: string;
  /** Aborts at `timeouts.hard` (reason: core's `TimeoutError`); hand it to the I/O. */
  signal: AbortSignal;
}

/** Options of `getOrSet`. */
export interface GetOrSetOptions<P extends string = never> extends SetOptions<P> {
  /** Overrides `timeouts.soft` / `timeouts.hard` for this call. */
  timeouts?: Pick<CacheTimeouts, 'soft' | 'hard'> | undefined;
  /** Overrides `earlyRefresh` for this call; `0` turns it off. */
  earlyRefresh?: number | undefined;
  /**
   * Stops this caller's wait with core's `AbortedError` (the shared loader goes on for others).
   */
  signal?: AbortSignal | undefined;
}

/** Options of a call that only waits: `get`, `health`, `ready`. */
export interface WaitOptions {
  /** Stops the wait with core's `AbortedError`. */
  signal?: AbortSignal | undefined;
}

/** Result of `health()`; the shape @org/health checks. */
export interface CacheHealth {
  /** Whether the backend answered (always true for memory only). */
  available: boolean;
  /** Round-trip of the check, in ms. */
  latencyMs: number;
  /** `redis`, `memory`, or a custom driver's name. */
  backend: string;
}

/** A two-tier cache. Backend failures never reject its calls; only a loader's own error does. */
export interface Cache<P extends string = never> {
  /** The namespace every key lives under. */
  readonly namespace: string;
  /** The value, or undefined on a miss (or when the backend fails and L1 has nothing). */
  get<T = unknown>(key: string, options?: WaitOptions): Promise<T | undefined>;
  /** Stores `value` in L1 and L2 and tells other instances to drop their L1 copy. */
  set(key: string, value: unknown, options?: SetOptions<P>): Promise<void>;
  /**
   * The cached value, or the loader's, stored on the way. Concurrent calls for a cold key run the
   * loader once per process, and once across instances while Redis is up.
   */
  getOrSet<T>(
    key: string,
    loader: (ctx: LoaderContext) => T | Promise<T>,
    options?: GetOrSetOptions<P>,
  ): Promise<T>;
  /** Deletes `key` everywhere; true when it existed in a tier. */
  delete(key: string): Promise<boolean>;
  /** Deletes every key set with `tag`, on every instance. */
  deleteByTag(tag: string): Promise<void>;
  /** Deletes every key of this namespace (nested ones included), in Redis and in every L1. */
  clear(): Promise<void>;
  /**
   * A view of this cache under `<namespace>:<name>`, sharing its L1, Redis connection,
   * subscription and events; its `clear()` deletes only its own keys. Closing a view does
   * nothing: close the cache it came from.
   */
  withNamespace(name: string): Cache<P>;
  /** Pings the backend within `timeouts.command`. */
  health(options?: WaitOptions): Promise<CacheHealth>;
  /** Resolves true once Redis and invalidation are connected, false after `timeouts.connect`. */
  ready(options?: WaitOptions): Promise<boolean>;
  /** Listens to an event; returns the function that stops listening. */
  on<K extends CacheEventName>(
    event: K,
    listener: (payload: CacheEvents[K]) => unknown,
  ): Unsubscribe;
  /** Like `on`, for the next `event` only. */
  once<K extends CacheEventName>(
    event: K,
    listener: (payload: CacheEvents[K]) => unknown,
  ): Unsubscribe;
  /**
   * Releases what the cache holds: the probe timer, the subscription, the Redis client it made
   * from a URL (an app's client is left open), its listeners. Idempotent. Later calls use L1 and
   * the loader only.
   */
  close(): Promise<void>;
}
