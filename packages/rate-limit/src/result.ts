import type { OrgError } from '@org/core';
import type { Decision } from './algorithms.js';
import type { MemoryStore } from './drivers/memory.js';
import { RateLimitError, RateLimitErrorCode } from './errors.js';
import type { Rule } from './tiers.js';
import type { RateLimitResult } from './types.js';

/** The result of a check: a store's decision and the rule it was made under. */
export function result(
  rule: Rule,
  d: Decision,
  store: 'redis' | 'memory',
  fallback?: 'open' | 'local',
  listed?: 'allow' | 'deny',
): RateLimitResult {
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
    fallback,
    listed,
  };
}

/**
 * What a tier answers while Redis is failing, by its `failurePolicy`: `open` allows, `closed`
 * throws `ERR_RATE_LIMIT_UNAVAILABLE` (with the Redis failure as `cause`), `local` counts in the
 * memory store kept warm beside Redis.
 */
export function fallbackResult(
  rule: Rule,
  local: MemoryStore,
  /** The id as the memory store keys it (per rule). */
  lid: string,
  cost: number,
  now: number,
  commit: boolean,
  error: OrgError,
): RateLimitResult {
  if (rule.failurePolicy === 'closed') {
    throw new RateLimitError(
      RateLimitErrorCode.Unavailable,
      `Redis is unavailable and tier "${rule.tier}" has failurePolicy 'closed': the request was refused. Restore Redis, or choose 'local'.`,
      { cause: error },
    );
  }
  if (rule.failurePolicy === 'open') {
    const d = { allowed: true, remaining: rule.limit - cost, resetMs: 0, retryAfterMs: 0 };
    return result(rule, d, 'memory', 'open');
  }
  const d = commit ? local.consume(lid, rule, cost, now) : local.peek(lid, rule, cost, now);
  return result(rule, d, 'memory', 'local');
}
