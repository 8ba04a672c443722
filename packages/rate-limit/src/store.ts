import type { Decision } from './algorithms.js';
import type { Rule } from './tiers.js';

/**
 * The one extension point of the limiter: where counts live. The memory and Redis stores
 * implement it; so may an app's own (a Postgres table, a Memcached). `key` is already prefixed
 * and names the tier, the route and the client. `now` is the limiter's clock, in ms.
 */
export interface RateLimitStore {
  /** `'memory'` or `'redis'`: reported as the result's `store`. */
  readonly kind: 'memory' | 'redis';
  /** Decides a request of `cost` and counts it when allowed; atomically per key. */
  consume(key: string, rule: Rule, cost: number, now: number): Promise<Decision> | Decision;
  /** What `consume` would decide for `cost`, counting nothing. */
  peek(key: string, rule: Rule, cost: number, now: number): Promise<Decision> | Decision;
  /** Forgets the key (in `rule`, at `now`): its next request starts afresh. */
  reset(key: string, rule: Rule, now: number): Promise<void> | void;
  /**
   * Optional: resolves true once the store can take calls (its first connection is made), false
   * when it could not connect in its connect timeout. The limiter waits for it before its first
   * check, so that start-up is not mistaken for an outage.
   */
  ready?(): Promise<boolean>;
  /**
   * Optional: true when the store itself rejects a call past `timeoutMs` right now (a client
   * whose command timeout is no longer), so the limiter need not arm a timer of its own.
   */
  selfBounded?(timeoutMs: number): boolean;
  /** Optional: a cheap round trip proving the store answers (Redis `PING`). */
  ping?(): Promise<void>;
  /** Optional: releases what the store holds (a client it created). */
  close?(): Promise<void>;
}
