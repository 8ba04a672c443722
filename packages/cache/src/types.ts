import type { Cluster, Redis } from 'ioredis';
import type { CacheDriver } from './driver.js';
import type { CacheEventName, CacheEvents, Unsubscribe } from './events.js';
import type { Clock } from './memory-store.js';
import type { Serializer } from './serializer.js';
import type { DefaultTtlPreset, Ttl } from './ttl.js';

/** Bounds and lifetime of the in-process L1. */
export interface MemoryOptions {
  /** Most entries kept; the least recently used go first. @default 10_000 */
  maxEntries?: number;
  /** Most bytes kept (keys and serialized values, 2 bytes per UTF-16 unit). @default 64 MiB */
  maxBytes?: number;
  /**
   * Longest an entry lives in L1, in seconds, when shorter than its TTL. A short L1 TTL bounds
   * how stale an instance can be if an invalidation is ever lost. @default the entry's TTL
   */
  ttl?: number;
}

/** Time bounds, in milliseconds. */
export interface CacheTimeouts {
  /** Bound on each Redis command; past it the call goes on without L2. @default 250 */
  command?: number;
  /** Bound on connecting to Redis (for a client made from a URL). @default 1000 */
  connect?: number;
  /**
   * With a stale value at hand (within `grace`), `getOrSet` returns it once the loader has run
   * this long, and lets the loader finish in the background. `0` = stale-while-revalidate.
   * @default none (wait for the loader)
   */
  soft?: number;
  /** Aborts the loader's signal and gives up on it after this. @default none */
  hard?: number;
  /** Lifetime of the cross-instance loader lock. @default 5000 */
  lock?: number;
  /** How long `getOrSet` waits for another instance's loader before running its own. @default `lock` */
  lockWait?: number;
}

/** Options of `createCache`. */
export interface CacheOptions<P extends string = never> {
  /**
   * Redis as L2: a URL (`redis://…`, `rediss://…`; ioredis is then loaded on demand and the
   * client created with bounded timeouts and no offline queue), or an ioredis `Redis`/`Cluster`
   * the app holds (used as is, not closed by `close()`). @default none (memory only)
   */
  redis?: string | Redis | Cluster;
  /** Any other L2 backend. Ignored when `redis` is given. */
  driver?: CacheDriver;
  /** Prefix of every key, and scope of `clear()`. @default 'cache' */
  namespace?: string;
  /**
   * TTL presets in seconds, merged over `{ default: 300, contractor: 600, pricing: 1800,
   * template: 300 }`; `CACHE_TTL_<NAME>` environment variables override both. `default` applies
   * when a call names no TTL.
   */
  ttl?: Partial<Record<P | DefaultTtlPreset, number>>;
  /** L1 bounds, or `false` for no L1. @default { maxEntries: 10_000, maxBytes: 64 MiB } */
  memory?: MemoryOptions | false;
  /** Time bounds (ms). */
  timeouts?: CacheTimeouts;
  /** Turns values into strings. @default JSON keeping undefined and Dates */
  serializer?: Serializer;
  /** How long past its TTL a value may still be served when the loader fails, in seconds. @default 0 */
  grace?: number;
  /** Fraction by which TTLs are shortened at random, so entries do not all expire at once. @default 0.1 */
  jitter?: number;
  /**
   * Fraction of the TTL after which a `getOrSet` hit starts a background refresh (0.8 = in the
   * last fifth). @default none
   */
  earlyRefresh?: number;
  /** Publish and listen for invalidations so other instances drop their L1 copy. @default true */
  invalidation?: boolean;
  /** Consecutive L2 failures before L2 is skipped (a closed connection counts at once). @default 3 */
  failureThreshold?: number;
  /** Interval of the recovery probe while L2 is skipped, in ms. @default 500 */
  probeInterval?: number;
  /**
   * Most keys, tags and cleared namespaces remembered from `set`, `getOrSet` loads, `delete`,
   * `deleteByTag` and `clear` made while L2 is degraded (they reach only L1 then). On recovery
   * they are deleted or invalidated in Redis, and announced to the other instances, before L2
   * is read again, so that Redis cannot serve what was overwritten or deleted during the outage.
   * Past this many, recovery clears the whole namespace in Redis instead. @default 1000
   */
  outageJournal?: number;
  /** Environment read for `CACHE_TTL_*`. @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
  /** Time source for TTLs, for tests. @default Date.now */
  clock?: Clock;
  /** Randomness for jitter and tokens, in [0, 1). @default Math.random */
  random?: () => number;
}

/** Options of `set`. */
export interface SetOptions<P extends string = never> {
  /** Seconds, or a preset name. @default the `default` preset */
  ttl?: Ttl<P>;
  /** Seconds past the TTL during which the value may still be served by `getOrSet` on failure. */
  grace?: number;
  /** Tags, for `deleteByTag`. */
  tags?: readonly string[];
  /**
   * L1 settings of this entry: `ttl` caps how long this instance keeps it in L1, in seconds
   * (`0` = not kept in L1), in place of the cache's `memory.ttl`; never past the entry's TTL
   * (plus grace). It applies where this call stores the entry: its `set`, or the L1 fill of a
   * `getOrSet` (from the loader or from L2). @default the cache's `memory.ttl`
   */
  memory?: { ttl?: number };
}

/** What the loader of `getOrSet` receives. */
export interface LoaderContext {
  /** The key being loaded (without namespace). */
  key: string;
  /** Aborts at `timeouts.hard`; hand it to the I/O. */
  signal: AbortSignal;
}

/** Options of `getOrSet`. */
export interface GetOrSetOptions<P extends string = never> extends SetOptions<P> {
  /** Overrides `timeouts.soft` / `timeouts.hard` for this call (ms). */
  timeouts?: Pick<CacheTimeouts, 'soft' | 'hard'>;
  /** Overrides `earlyRefresh` for this call; `0` turns it off. */
  earlyRefresh?: number;
  /** Stops this caller's wait (the shared loader goes on for others). */
  signal?: AbortSignal;
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
  get<T = unknown>(key: string, options?: { signal?: AbortSignal }): Promise<T | undefined>;
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
  /** Pings the backend. */
  health(): Promise<CacheHealth>;
  /** Resolves true once Redis and invalidation are connected, false after `timeouts.connect`. */
  ready(): Promise<boolean>;
  /** Listens to an event; returns the function that stops listening. */
  on<K extends CacheEventName>(event: K, listener: (payload: CacheEvents[K]) => void): Unsubscribe;
  /** Stops listening, closes what the cache opened; later calls use L1 and the loader only. */
  close(): Promise<void>;
}
