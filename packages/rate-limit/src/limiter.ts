import {
  abortable,
  isAbortedError,
  type OrgError,
  systemClock,
  throwIfAborted,
  withTimeout,
} from '@org/core';
import type { Decision } from './algorithms.js';
import { BlockedCache } from './blocked-cache.js';
import { createMemoryStore } from './drivers/memory.js';
import { createRedisStore } from './drivers/redis.js';
import {
  backendError,
  check,
  invalidOption,
  RateLimitError,
  RateLimitErrorCode,
} from './errors.js';
import { createRateLimitEmitter } from './events.js';
import { Failover } from './failover.js';
import { idMatcher } from './ip.js';
import { buildRules, POLICIES, type Rule } from './tiers.js';
import type {
  LimitOptions,
  RateLimiter,
  RateLimiterOptions,
  RateLimitHealth,
  RateLimitResult,
} from './types.js';

function result(rule: Rule, d: Decision, store: 'redis' | 'memory'): RateLimitResult {
  return {
    allowed: d.allowed,
    tier: rule.tier,
    route: rule.route,
    limit: rule.limit,
    windowMs: rule.windowMs,
    remaining: d.remaining,
    resetMs: d.resetMs,
    retryAfterMs: d.retryAfterMs,
    store,
  };
}

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

  const ruleOf = (tier: string, route: string | undefined): Rule => {
    const book = rules.get(tier);
    if (!book) {
      throw new RateLimitError(
        RateLimitErrorCode.UnknownTier,
        `No tier named ${JSON.stringify(String(tier).slice(0, 64))}: pass one of ${[...rules.keys()].join(', ')} (the limiter's \`tiers\`).`,
      );
    }
    return book.get(route ?? '') ?? book.get('')!;
  };

  const keyOf = (rule: Rule, id: string): string => {
    if (typeof id !== 'string' || id.length === 0) {
      throw invalidOption('`id` must be a non-empty string (a user id, an API key id, an address)');
    }
    const safe = id.length > MAX_ID ? `${id.slice(0, 64)}…${id.length}` : id;
    // One hash tag per client: each key lives in one Cluster slot, and one key per script.
    return `${prefix}{${rule.tier}:${rule.route ?? ''}:${safe}}`;
  };

  const costOf = (rule: Rule, cost: number | undefined): number =>
    cost === undefined
      ? rule.cost
      : check.number(cost, 'cost', undefined, { min: 0, max: rule.limit })!;

  const fallback = (
    rule: Rule,
    key: string,
    cost: number,
    now: number,
    commit: boolean,
    error: OrgError,
  ) => {
    if (rule.failurePolicy === 'closed') {
      throw new RateLimitError(
        RateLimitErrorCode.Unavailable,
        `Redis is unavailable and tier "${rule.tier}" has failurePolicy 'closed': the request was refused. Restore Redis, or choose 'local'.`,
        { cause: error },
      );
    }
    if (rule.failurePolicy === 'open') {
      const d = { allowed: true, remaining: rule.limit - cost, resetMs: 0, retryAfterMs: 0 };
      return { ...result(rule, d, 'memory'), fallback: 'open' as const };
    }
    const d = commit ? local.consume(key, rule, cost, now) : local.peek(key, rule, cost, now);
    return { ...result(rule, d, 'memory'), fallback: 'local' as const };
  };

  const run = async (tier: string, id: string, opts: LimitOptions | undefined, commit: boolean) => {
    const rule = ruleOf(tier, opts?.route);
    const key = keyOf(rule, id);
    const cost = costOf(rule, opts?.cost);
    throwIfAborted(opts?.signal);
    if (allowed?.(id)) {
      const d = { allowed: true, remaining: rule.limit, resetMs: 0, retryAfterMs: 0 };
      return { ...result(rule, d, redis ? 'redis' : 'memory'), listed: 'allow' as const };
    }
    if (denied?.(id)) {
      const d = {
        allowed: false,
        remaining: 0,
        resetMs: rule.windowMs,
        retryAfterMs: rule.windowMs,
      };
      if (commit)
        events.emit('limited', { tier, id, retryAfterMs: rule.windowMs, reason: 'denied' });
      return { ...result(rule, d, redis ? 'redis' : 'memory'), listed: 'deny' as const };
    }
    const now = clock.now();
    let r: RateLimitResult;
    if (!redis || !failover) {
      const d = commit ? local.consume(key, rule, cost, now) : local.peek(key, rule, cost, now);
      r = result(rule, d, 'memory');
    } else {
      const refused = blocked.refusal(key, cost, now);
      if (refused) {
        const wait = refused.until - now;
        const resetMs = Math.max(wait, refused.resetAt - now);
        r = result(rule, { allowed: false, remaining: 0, resetMs, retryAfterMs: wait }, 'redis');
      } else if (starting && !(await abortable(starting, opts?.signal))) {
        const e = backendError(new Error('Redis did not connect within its connect timeout'));
        failover.fail(e);
        r = fallback(rule, key, cost, now, commit, e);
      } else if (failover.down) {
        r = fallback(rule, key, cost, now, commit, failover.lastError!);
      } else {
        try {
          const d = await withTimeout(
            () => (commit ? redis.consume(key, rule, cost, now) : redis.peek(key, rule, cost, now)),
            { timeoutMs, signal: opts?.signal, what: 'Redis rate-limit check' },
          );
          if (rule.failurePolicy === 'local') local.seed(key, rule, d, now);
          if (!d.allowed && commit && d.retryAfterMs > 0)
            blocked.add(key, cost, now + d.retryAfterMs, now + d.resetMs);
          r = result(rule, d, 'redis');
        } catch (err) {
          if (isAbortedError(err) || (opts?.signal?.aborted && err === opts.signal.reason))
            throw err;
          const e = backendError(err);
          failover.fail(e);
          r = fallback(rule, key, cost, now, commit, e);
        }
      }
    }
    if (!r.allowed && commit && events.has('limited')) {
      events.emit('limited', { tier, id, retryAfterMs: r.retryAfterMs, reason: 'limited' });
    }
    return r;
  };

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
      const key = keyOf(rule, id);
      blocked.delete(key);
      local.reset(key);
      if (redis && !failover?.down) {
        await withTimeout(() => redis.reset(key), {
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
