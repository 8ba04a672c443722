import { abortable, isAbortedError, withTimeout } from '@org/core';
import type { BlockedCache } from './blocked-cache.js';
import type { MemoryStore } from './drivers/memory.js';
import { backendError, backendFailure } from './errors.js';
import type { Failover } from './failover.js';
import { fallbackResult, result } from './result.js';
import type { RateLimitStore } from './store.js';
import { recordCheckError, recordDecision } from './telemetry.js';
import type { Rule } from './tiers.js';
import type { RateLimitResult } from './types.js';

/** What a check on Redis works with; all of it is the limiter's. */
export interface RedisPathParts {
  store: RateLimitStore;
  failover: Failover;
  /** The memory store the `local` policy counts in, seeded from each Redis answer. */
  local: MemoryStore;
  blocked: BlockedCache;
  timeoutMs: number;
  /** The first connection while it is being made, else undefined. */
  starting(): Promise<boolean> | undefined;
  /** Reports a refusal (the `limited` event). */
  limited(r: RateLimitResult, id: string): void;
}

/**
 * A check on Redis, in this order: an id known to be refused is answered here; before the first
 * connection, the check waits for it (its connect timeout, not the call's); on the fallback, the
 * tier's failure policy answers at once; else one store call bounded by `timeoutMs`, whose
 * failure puts the limiter on its fallback and is answered by the policy.
 */
export function createRedisPath(p: RedisPathParts) {
  const { store, failover, local, blocked, timeoutMs } = p;
  const consume = store.consume.bind(store);
  const peek = store.peek.bind(store);

  // The store's answer, or the failure policy's.
  const decide = (
    rule: Rule,
    key: string,
    lid: string,
    cost: number,
    now: number,
    signal: AbortSignal | undefined,
    commit: boolean,
  ): Promise<RateLimitResult> | RateLimitResult => {
    const refused = blocked.refusal(key, cost, now);
    if (refused) {
      const wait = refused.until - now;
      const resetMs = Math.max(wait, refused.resetAt - now);
      return result(rule, { allowed: false, remaining: 0, resetMs, retryAfterMs: wait }, 'redis');
    }
    const starting = p.starting();
    if (starting) {
      return abortable(starting, signal).then((ok) => {
        if (ok) return decide(rule, key, lid, cost, now, signal, commit);
        const e = backendFailure('Redis did not connect within its connect timeout');
        failover.fail(e);
        return fallbackResult(rule, local, lid, cost, now, commit, e);
      });
    }
    if (failover.down) {
      return fallbackResult(rule, local, lid, cost, now, commit, failover.lastError!);
    }
    const call = commit ? consume : peek;
    // A client that bounds its own commands needs no timer of ours (one fewer per check).
    const pending =
      !signal && store.selfBounded?.(timeoutMs)
        ? call(key, rule, cost, now)
        : withTimeout(() => call(key, rule, cost, now), {
            timeoutMs,
            signal,
            what: 'Redis rate-limit check',
          });
    return Promise.resolve(pending).then(
      (d) => {
        if (rule.failurePolicy === 'local') local.seed(lid, rule, d, now);
        if (!d.allowed && commit && d.retryAfterMs > 0) {
          blocked.add(key, cost, now + d.retryAfterMs, now + d.resetMs);
        }
        return result(rule, d, 'redis');
      },
      (err: unknown) => {
        if (isAbortedError(err) || (signal?.aborted && err === signal.reason)) throw err;
        const e = backendError(err);
        failover.fail(e);
        return fallbackResult(rule, local, lid, cost, now, commit, e);
      },
    );
  };

  // Written as promise chains, not async functions: this is the hot path.
  return (
    rule: Rule,
    key: string,
    lid: string,
    id: string,
    cost: number,
    now: number,
    signal: AbortSignal | undefined,
    commit: boolean,
  ): Promise<RateLimitResult> => {
    let answer: Promise<RateLimitResult> | RateLimitResult;
    try {
      answer = decide(rule, key, lid, cost, now, signal, commit);
    } catch (err) {
      if (commit) recordCheckError(rule, err);
      return Promise.reject(err);
    }
    if (!(answer instanceof Promise)) {
      if (commit) {
        recordDecision(answer);
        if (!answer.allowed) p.limited(answer, id);
      }
      return Promise.resolve(answer);
    }
    return answer.then(
      (r) => {
        if (commit) {
          recordDecision(r);
          if (!r.allowed) p.limited(r, id);
        }
        return r;
      },
      (err: unknown) => {
        if (commit) recordCheckError(rule, err);
        throw err;
      },
    );
  };
}
