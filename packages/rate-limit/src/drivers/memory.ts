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

/**
 * The memory store, plus the seeding the limiter's `local` fallback uses. Keys are per rule: the
 * limiter passes the client's id as it is, and the rule tells tiers and routes apart.
 */
export interface MemoryStore extends RateLimitStore {
  readonly kind: 'memory';
  consume(key: string, rule: Rule, cost: number, now: number): Decision;
  peek(key: string, rule: Rule, cost: number, now: number): Decision;
  reset(key: string, rule: Rule): void;
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
  // One Map per rule, keyed by the id as given: no key string to build and hash per check.
  const maps = new Map<Rule, Map<string, State>>();
  let size = 0;

  const mapOf = (rule: Rule): Map<string, State> => {
    let m = maps.get(rule);
    if (m === undefined) {
      m = new Map();
      maps.set(rule, m);
    }
    return m;
  };
  // Past maxKeys: the least recently active key of the same rule, else of another one.
  const evict = (m: Map<string, State>) => {
    const from = m.size > 1 ? m : [...maps.values()].find((x) => x !== m && x.size > 0);
    const oldest = from?.keys().next();
    if (from && oldest && !oldest.done) {
      from.delete(oldest.value);
      size--;
    }
  };
  const add = (m: Map<string, State>, key: string, st: State) => {
    m.set(key, st);
    if (++size > maxKeys) evict(m);
  };
  const touch = (m: Map<string, State>, key: string, st: State) => {
    // Re-inserting moves the key to the young end of the Map's order.
    m.delete(key);
    m.set(key, st);
  };
  const windowOf = (rule: Rule, st: State) =>
    rule.algorithm === 'token-bucket' ? Math.floor(st.b / rule.windowMs) : st.a;

  return {
    kind: 'memory',
    get size() {
      return size;
    },
    consume(key, rule, cost, now) {
      const m = mapOf(rule);
      const had = m.get(key);
      if (had === undefined) {
        const st = fresh(rule, now);
        const d = decide(rule, st, cost, now, true);
        if (d.allowed || st.k > 0) add(m, key, st);
        return d;
      }
      // Recency is refreshed once per window (or block), not per request: the state is updated in
      // place, and a key active in the current window is never the oldest.
      const before = windowOf(rule, had);
      const block = had.k;
      const d = decide(rule, had, cost, now, true);
      if (windowOf(rule, had) !== before || had.k !== block) touch(m, key, had);
      return d;
    },
    peek(key, rule, cost, now) {
      // Without commit, decide() does not write to the state.
      return decide(rule, maps.get(rule)?.get(key) ?? fresh(rule, now), cost, now, false);
    },
    reset(key, rule) {
      if (maps.get(rule)?.delete(key)) size--;
    },
    seed(key, rule, decision, now) {
      const m = mapOf(rule);
      const had = m.get(key);
      if (had === undefined) return add(m, key, seed(rule, decision, now));
      const before = windowOf(rule, had);
      seed(rule, decision, now, had);
      if (windowOf(rule, had) !== before) touch(m, key, had);
    },
  };
}
