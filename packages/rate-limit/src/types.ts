import type { Clock, Duration, Events } from '@org/core';
import type { RedisOption } from '@org/core/redis';
import type { RedisOptions } from 'ioredis';
import type { RateLimitEvents } from './events.js';
import type { RateLimitStore } from './store.js';
import type { Algorithm, FailurePolicy, TierOptions } from './tiers.js';

/** Options of `createRateLimiter`. */
export interface RateLimiterOptions<T extends string = string> {
  /** The tiers, by name: `{ auth: { limit: 5, window: '1m', blockFor: '15m' } }`. None is built in. */
  tiers: Record<T, TierOptions>;
  /**
   * Redis, shared by every instance: a `redis://`/`rediss://` URL (a client is created with
   * bounded options and closed by `close()`), or an ioredis `Redis` or `Cluster` the app holds.
   * Unset or `''`: counts are kept in this process only.
   */
  redis?: RedisOption | undefined;
  /** A store of your own instead of memory or Redis (see `RateLimitStore`). */
  store?: RateLimitStore | undefined;
  /** Prefix of every key (Redis keys are `<prefix>{<tier>:<route>:<id>}`). @default 'rl:' */
  prefix?: string | undefined;
  /** What a tier does when Redis fails, unless it says otherwise. @default 'local' */
  failurePolicy?: FailurePolicy | undefined;
  /** How long one check may wait on Redis before the tier falls back. @default '100ms' */
  timeout?: Duration | undefined;
  /** How often Redis is pinged while the limiter is on its fallback. @default '1s' */
  probeInterval?: Duration | undefined;
  /** Most keys the memory store (or the `local` fallback) holds, LRU beyond. @default 1_000_000 */
  maxKeys?: number | undefined;
  /** Most refused ids remembered locally to spare Redis a round trip; 0 for none. @default 10_000 */
  blockedCacheSize?: number | undefined;
  /** Ids never limited: exact ids, addresses or CIDR ranges (`'10.0.0.0/8'`). @default [] */
  allow?: readonly string[] | undefined;
  /** Ids always refused: exact ids, addresses or CIDR ranges. @default [] */
  deny?: readonly string[] | undefined;
  /** Further ioredis options for a client created from a URL. */
  redisOptions?: RedisOptions | undefined;
  /** The time source. @default systemClock */
  clock?: Clock | undefined;
}

/** Options of one `limit()` or `peek()` call. */
export interface LimitOptions {
  /** What this request costs, in units of the tier's `limit`. @default the tier's `cost` */
  cost?: number | undefined;
  /** A route override of the tier (a key of its `routes`); counted apart from the tier. */
  route?: string | undefined;
  /** Abandons the wait on Redis: rejects with core's `AbortedError`. */
  signal?: AbortSignal | undefined;
}

/** The answer to one `limit()` (or `peek()`). Times are milliseconds from now. */
export interface RateLimitResult {
  /** Whether the request may go ahead. */
  allowed: boolean;
  /** The tier, and the route override when one applied. */
  tier: string;
  route?: string | undefined;
  /** The limit that applied: requests (cost units) per window, or the bucket's capacity. */
  limit: number;
  /** The window, in ms. */
  windowMs: number;
  /** Units left after this request. */
  remaining: number;
  /** Until the window ends (the bucket is full again, or a block ends). */
  resetMs: number;
  /** How long to wait before retrying; 0 when allowed. */
  retryAfterMs: number;
  /** Where the decision was made: Redis, or this process (memory store or fallback). */
  store: 'redis' | 'memory';
  /** Set when Redis failed and the tier's failure policy answered: `open` or `local`. */
  fallback?: 'open' | 'local' | undefined;
  /** Set when an allow or deny list decided, without counting. */
  listed?: 'allow' | 'deny' | undefined;
}

/** What `health()` reports, in the shape `@org/health`'s `dependencyCheck` reads. */
export interface RateLimitHealth {
  /** False while the limiter runs on its fallback. */
  available: boolean;
  latencyMs: number;
  backend: 'redis' | 'memory';
  error?: string | undefined;
}

/** A tier's settings as checked: what the HTTP headers describe. */
export interface TierInfo {
  tier: string;
  route?: string | undefined;
  limit: number;
  windowMs: number;
  algorithm: Algorithm;
  failurePolicy: FailurePolicy;
}

/** A rate limiter. */
export interface RateLimiter<T extends string = string> extends Events<RateLimitEvents> {
  /** Counts one request of `id` against `tier`, and says whether it may go ahead. */
  limit(tier: T, id: string, options?: LimitOptions): Promise<RateLimitResult>;
  /** What `limit()` would answer, counting nothing. */
  peek(tier: T, id: string, options?: LimitOptions): Promise<RateLimitResult>;
  /** Forgets `id`'s count (and block) in `tier`: after a successful login, say. */
  reset(tier: T, id: string, options?: Pick<LimitOptions, 'route' | 'signal'>): Promise<void>;
  /** The checked settings of `tier` (and `route`). */
  tier(tier: T, route?: string): TierInfo;
  /** True while Redis is failing and tiers answer by their `failurePolicy`. */
  readonly degraded: boolean;
  /** Redis's state, for `@org/health`'s `dependencyCheck`; pings Redis when on the fallback. */
  health(options?: { signal?: AbortSignal }): Promise<RateLimitHealth>;
  /**
   * An `@org/health` check function: `ok` on Redis (or memory), `warn` with a reason while on the
   * fallback. Use as `checks: { rateLimit: { check: limiter.check, critical: false } }`.
   */
  check(signal?: AbortSignal): Promise<{ status: 'ok' | 'warn'; reason?: string }>;
  /** Closes a Redis client created from a URL and stops the probe; idempotent. */
  close(): Promise<void>;
}
