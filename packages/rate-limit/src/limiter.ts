import { systemClock, throwIfAborted, withTimeout } from '@org/core';
import { BlockedCache } from './blocked-cache.js';
import { createMemoryStore } from './drivers/memory.js';
import { createRedisStore } from './drivers/redis.js';
import { check, invalidOption, RateLimitError, RateLimitErrorCode } from './errors.js';
import { createRateLimitEmitter } from './events.js';
import { Failover } from './failover.js';
import { idMatcher } from './ip.js';
import { createRedisPath } from './redis-path.js';
import { result } from './result.js';
import { recordDecision } from './telemetry.js';
import { buildRules, POLICIES, type Rule } from './tiers.js';
import type {
  LimitOptions,
  RateLimiter,
  RateLimiterOptions,
  RateLimitHealth,
  RateLimitResult,
} from './types.js';

const MAX_ID = 256;

/**
 * Creates a rate limiter over the given tiers: in this process, or in Redis when `redis` is set
 * (one atomic script per check, exact across instances), with each tier's `failurePolicy` taking
 * over when Redis fails. Throws `ERR_RATE_LIMIT_INVALID_OPTION` at once for a bad option.
 */
export function createRateLimiter<T extends string>(
  options: RateLimiterOptions<T>,
): RateLimiter<T> {
  const o = check.object(options, 'options');
  const failurePolicy = check.oneOf(o.failurePolicy, 'failurePolicy', POLICIES, 'local');
  const rules = buildRules(o.tiers, failurePolicy);
  const prefix = o.prefix === undefined ? 'rl:' : check.string(o.prefix, 'prefix', 'rl:');
  const clock = o.clock ?? systemClock;
  const maxKeys = check.integer(o.maxKeys, 'maxKeys', 1_000_000, { min: 1 });
  const probeMs = check.duration(o.probeInterval, 'probeInterval', '1s', { min: 1 });
  const blockedSize = check.integer(o.blockedCacheSize, 'blockedCacheSize', 10_000, { min: 0 });
  if (o.allow !== undefined && !Array.isArray(o.allow))
    throw invalidOption('`allow` must be an array');
  if (o.deny !== undefined && !Array.isArray(o.deny))
    throw invalidOption('`deny` must be an array');
  const allowed = o.allow?.length ? idMatcher(o.allow) : undefined;
  const denied = o.deny?.length ? idMatcher(o.deny) : undefined;

  const timeoutMs = check.duration(o.timeout, 'timeout', '100ms', { min: 1 });
  const local = createMemoryStore({ maxKeys });
  const redis =
    o.store ??
    (o.redis === undefined || o.redis === ''
      ? undefined
      : createRedisStore(o.redis, { timeout: timeoutMs, redisOptions: o.redisOptions }));
  const events = createRateLimitEmitter();
  const failover = redis ? new Failover(redis, events, probeMs) : undefined;
  const blocked = new BlockedCache(blockedSize);
  let closed = false;
  // The first connection: checks wait for it (up to the connect timeout), not the call timeout.
  let starting: Promise<boolean> | undefined = redis?.ready?.().finally(() => {
    starting = undefined;
  });

  // The tier's own rule by name, and each rule's key prefix: two lookups fewer per check.
  const plain = new Map<string, Rule>();
  const keyBase = new Map<Rule, string>();
  for (const [name, book] of rules) {
    plain.set(name, book.get('')!);
    // One hash tag per client: each key lives in one Cluster slot, and one key per script.
    for (const r of book.values()) keyBase.set(r, `${prefix}{${r.tier}:${r.route ?? ''}:`);
  }

  const ruleOf = (tier: string, route: string | undefined): Rule => {
    if (route === undefined) {
      const own = plain.get(tier);
      if (own) return own;
    }
    const book = rules.get(tier);
    if (!book) {
      throw new RateLimitError(
        RateLimitErrorCode.UnknownTier,
        `No tier named ${JSON.stringify(String(tier).slice(0, 64))}: pass one of ${[...rules.keys()].join(', ')} (the limiter's \`tiers\`).`,
      );
    }
    return book.get(route ?? '') ?? book.get('')!;
  };

  // The id as the stores see it: checked, and bounded in length.
  const idOf = (id: string): string => {
    if (typeof id !== 'string' || id.length === 0) {
      throw invalidOption('`id` must be a non-empty string (a user id, an API key id, an address)');
    }
    return id.length > MAX_ID ? `${id.slice(0, 64)}…${id.length}` : id;
  };
  // The Redis key: the memory store needs none (it keys by rule, then id).
  const keyOf = (rule: Rule, safe: string): string => `${keyBase.get(rule)}${safe}}`;

  const costOf = (rule: Rule, cost: number | undefined): number =>
    cost === undefined
      ? rule.cost
      : check.number(cost, 'cost', undefined, { min: 0, max: rule.limit })!;

  const listedResult = (rule: Rule, id: string, commit: boolean): RateLimitResult | undefined => {
    if (allowed?.(id)) {
      const d = { allowed: true, remaining: rule.limit, resetMs: 0, retryAfterMs: 0 };
      return result(rule, d, redis ? 'redis' : 'memory', undefined, 'allow');
    }
    if (!denied?.(id)) return undefined;
    const wait = rule.windowMs;
    if (commit)
      events.emit('limited', { tier: rule.tier, id, retryAfterMs: wait, reason: 'denied' });
    const d = { allowed: false, remaining: 0, resetMs: wait, retryAfterMs: wait };
    return result(rule, d, redis ? 'redis' : 'memory', undefined, 'deny');
  };

  const limited = (r: RateLimitResult, id: string) => {
    if (events.has('limited')) {
      events.emit('limited', { tier: r.tier, id, retryAfterMs: r.retryAfterMs, reason: 'limited' });
    }
  };

  // Synchronous up to the store: the memory path costs one promise, not an async function's.
  const run = (
    tier: string,
    id: string,
    opts: LimitOptions | undefined,
    commit: boolean,
  ): Promise<RateLimitResult> => {
    let rule: Rule;
    let safe: string;
    let cost: number;
    try {
      rule = ruleOf(tier, opts?.route);
      safe = idOf(id);
      cost = costOf(rule, opts?.cost);
      throwIfAborted(opts?.signal);
    } catch (err) {
      return Promise.reject(err);
    }
    const listed = allowed || denied ? listedResult(rule, id, commit) : undefined;
    if (listed) {
      if (commit) recordDecision(listed);
      return Promise.resolve(listed);
    }
    if (!redis) {
      const now = clock.now();
      const d = commit ? local.consume(safe, rule, cost, now) : local.peek(safe, rule, cost, now);
      const r = result(rule, d, 'memory');
      if (commit) {
        recordDecision(r);
        if (!d.allowed) limited(r, id);
      }
      return Promise.resolve(r);
    }
    return viaRedis!(rule, keyOf(rule, safe), safe, id, cost, clock.now(), opts?.signal, commit);
  };

  const viaRedis = redis
    ? createRedisPath({
        store: redis,
        failover: failover!,
        local,
        blocked,
        timeoutMs,
        starting: () => starting,
        limited,
      })
    : undefined;

  const health = async (opts?: { signal?: AbortSignal | undefined }): Promise<RateLimitHealth> => {
    const started = performance.now();
    if (!redis || !failover) return { available: true, latencyMs: 0, backend: 'memory' };
    throwIfAborted(opts?.signal);
    const ok = failover.down ? await failover.probe() : true;
    const latencyMs = Math.round(performance.now() - started);
    if (ok) return { available: true, latencyMs, backend: 'redis' };
    return { available: false, latencyMs, backend: 'redis', error: failover.lastError?.message };
  };

  return {
    on: (event, listener) => events.on(event, listener),
    once: (event, listener) => events.once(event, listener),
    limit: (tier, id, opts) => run(tier, id, opts, true),
    peek: (tier, id, opts) => run(tier, id, opts, false),
    async reset(tier, id, opts) {
      const rule = ruleOf(tier, opts?.route);
      const safe = idOf(id);
      const key = keyOf(rule, safe);
      blocked.delete(key);
      local.reset(safe, rule);
      if (redis && !failover?.down) {
        await withTimeout(() => redis.reset(key, rule, clock.now()), {
          timeoutMs,
          signal: opts?.signal,
          what: 'Redis rate-limit reset',
        });
      }
    },
    tier(tier, route) {
      const r = ruleOf(tier, route);
      const { limit, windowMs, algorithm, failurePolicy: policy } = r;
      return { tier: r.tier, route: r.route, limit, windowMs, algorithm, failurePolicy: policy };
    },
    get degraded() {
      return failover?.down ?? false;
    },
    health,
    async check(signal) {
      const h = await health({ signal });
      if (h.available) return { status: 'ok' };
      return {
        status: 'warn',
        reason: 'Redis unreachable: rate limits are on their failure policy',
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      failover?.close();
      blocked.clear();
      await redis?.close?.();
    },
  };
}
