import { type Decision, decide, fresh, type State, seed } from '../algorithms.js';
import { check } from '../errors.js';
import type { RateLimitStore } from '../store.js';
import type { Rule } from '../tiers.js';

/** Options of {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Most keys kept; past it the least recently used key is forgotten (it starts afresh). Each key
   * costs about 150 bytes (see the README's bench).
   * @default 1_000_000
   */
  maxKeys?: number | undefined;
}

/** The memory store, plus the seeding the limiter's `local` fallback uses. */
export interface MemoryStore extends RateLimitStore {
  readonly kind: 'memory';
  consume(key: string, rule: Rule, cost: number, now: number): Decision;
  peek(key: string, rule: Rule, cost: number, now: number): Decision;
  reset(key: string): void;
  /** Sets `key` to answer as Redis just did (see `failurePolicy: 'local'`). */
  seed(key: string, rule: Rule, decision: Decision, now: number): void;
  /** How many keys are held. */
  readonly size: number;
}

/**
 * A store in this process: one Map in least-recently-used order, bounded by `maxKeys`, with no
 * timer per key (state past its window is simply recomputed as fresh when read). Synchronous:
 * every call answers in the same tick.
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  const o = check.object(options, 'options');
  const maxKeys = check.integer(o.maxKeys, 'maxKeys', 1_000_000, { min: 1 });
  const states = new Map<string, State>();

  const evictOldest = () => {
    const oldest = states.keys().next();
    if (!oldest.done) states.delete(oldest.value);
  };
  const touch = (key: string, st: State) => {
    // Re-inserting moves the key to the young end of the Map's order.
    states.delete(key);
    states.set(key, st);
    if (states.size > maxKeys) evictOldest();
  };

  return {
    kind: 'memory',
    get size() {
      return states.size;
    },
    consume(key, rule, cost, now) {
      const had = states.get(key);
      if (had === undefined) {
        const st = fresh(rule, now);
        const d = decide(rule, st, cost, now, true);
        if (d.allowed || st.k > 0) {
          states.set(key, st);
          if (states.size > maxKeys) evictOldest();
        }
        return d;
      }
      // Recency is refreshed once per window (or block), not per request: the state is updated in
      // place, and a key active in the current window is never the oldest.
      const bucket = rule.algorithm === 'token-bucket';
      const before = bucket ? Math.floor(had.b / rule.windowMs) : had.a;
      const block = had.k;
      const d = decide(rule, had, cost, now, true);
      const after = bucket ? Math.floor(had.b / rule.windowMs) : had.a;
      if (after !== before || had.k !== block) touch(key, had);
      return d;
    },
    peek(key, rule, cost, now) {
      // Without commit, decide() does not write to the state.
      return decide(rule, states.get(key) ?? fresh(rule, now), cost, now, false);
    },
    reset(key) {
      states.delete(key);
    },
    seed(key, rule, decision, now) {
      const had = states.get(key);
      if (had === undefined) {
        states.set(key, seed(rule, decision, now));
        if (states.size > maxKeys) evictOldest();
        return;
      }
      // In place; recency refreshed once per window, as consume() does.
      const before = rule.algorithm === 'token-bucket' ? Math.floor(had.b / rule.windowMs) : had.a;
      seed(rule, decision, now, had);
      const after = rule.algorithm === 'token-bucket' ? Math.floor(had.b / rule.windowMs) : had.a;
      if (after !== before) touch(key, had);
    },
  };
}
