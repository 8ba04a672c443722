import type { Rule } from './tiers.js';

/**
 * The three algorithms as pure functions over a key's state, in memory. The Redis driver's Lua
 * script (drivers/redis-scripts.ts) is the same arithmetic, field for field, so that the two
 * stores answer alike and a store's state can seed the other's.
 *
 * State fields: `a`, `b`, `c` per algorithm, `k` the end of a block (0 for none), all in ms.
 * - fixed-window:   a = window start, b = count
 * - sliding-window: a = current window start, b = current count, c = previous window's count
 * - token-bucket:   a = tokens, b = time of the last refill
 */
export interface State {
  a: number;
  b: number;
  c: number;
  k: number;
}

/** A store's answer for one key. Times are milliseconds from `now`. */
export interface Decision {
  allowed: boolean;
  remaining: number;
  resetMs: number;
  retryAfterMs: number;
}

/**
 * Decides a request of `cost` at `now` and updates `st` in place when `commit` (a refused request
 * counts nothing, but may start a block). For a key never seen, pass {@link fresh}'s state.
 * `peek` is `commit = false`, which writes nothing to `st`.
 */
export function decide(
  rule: Rule,
  st: State,
  cost: number,
  now: number,
  commit: boolean,
): Decision {
  if (st.k > now) {
    const wait = st.k - now;
    return { allowed: false, remaining: 0, resetMs: wait, retryAfterMs: wait };
  }
  const d = evaluate(rule, st, cost, now, commit);
  if (!d.allowed && commit && rule.blockForMs > 0) {
    st.k = now + rule.blockForMs;
    d.retryAfterMs = Math.max(d.retryAfterMs, rule.blockForMs);
    d.resetMs = Math.max(d.resetMs, rule.blockForMs);
  }
  return d;
}

/** The state of a key never seen. */
export function fresh(rule: Rule, now: number): State {
  if (rule.algorithm === 'token-bucket') return { a: rule.limit, b: now, c: 0, k: 0 };
  return { a: now - (now % rule.windowMs), b: 0, c: 0, k: 0 };
}

function evaluate(rule: Rule, st: State, cost: number, now: number, commit: boolean): Decision {
  const { limit: L, windowMs: W } = rule;
  if (rule.algorithm === 'token-bucket') {
    const rate = rule.refillRate / W;
    const tokens = Math.min(L, st.a + Math.max(0, now - st.b) * rate);
    const allowed = tokens >= cost;
    const left = allowed ? tokens - cost : tokens;
    // A refusal leaves the bucket as it was (as the Lua script does), so both refill alike.
    if (commit && allowed) {
      st.a = left;
      st.b = now;
    }
    return {
      allowed,
      remaining: Math.floor(left),
      resetMs: Math.ceil((L - left) / rate),
      retryAfterMs: allowed ? 0 : Math.ceil((cost - tokens) / rate),
    };
  }
  const start = now - (now % W);
  let prev = st.c;
  let cur = st.b;
  if (start !== st.a) {
    prev = rule.algorithm === 'sliding-window' && start - st.a === W ? st.b : 0;
    cur = 0;
  }
  const elapsed = now - start;
  const resetMs = W - elapsed;
  if (rule.algorithm === 'fixed-window') {
    const allowed = cur + cost <= L;
    if (commit) {
      st.a = start;
      st.b = allowed ? cur + cost : cur;
    }
    const used = allowed ? cur + cost : cur;
    return {
      allowed,
      remaining: Math.max(0, Math.floor(L - used)),
      resetMs,
      retryAfterMs: allowed ? 0 : resetMs,
    };
  }
  const weighted = (prev * (W - elapsed)) / W;
  const allowed = weighted + cur + cost <= L;
  if (commit) {
    st.a = start;
    st.b = allowed ? cur + cost : cur;
    st.c = prev;
  }
  const used = weighted + (allowed ? cur + cost : cur);
  return {
    allowed,
    remaining: Math.max(0, Math.floor(L - used)),
    resetMs,
    retryAfterMs: allowed ? 0 : slidingWait(L, W, prev, cur, cost, elapsed),
  };
}

// The wait until `weighted + cur + cost <= L`: later in this window as the previous one's weight
// fades, or in the next window, where this window's count becomes the weighted one.
function slidingWait(L: number, W: number, prev: number, cur: number, cost: number, e: number) {
  if (prev > 0 && cur + cost <= L)
    return Math.max(1, Math.ceil(W - ((L - cur - cost) * W) / prev - e));
  const next = cur > 0 ? Math.max(0, Math.ceil(W * (1 - (L - cost) / cur))) : 0;
  return W - e + next;
}

/**
 * A state that answers like `d` did for a key of `rule` at `now`: how the local fallback is kept
 * warm from Redis's answers, so that an outage does not hand every client a fresh allowance.
 */
export function seed(rule: Rule, d: Decision, now: number, into?: State): State {
  const st = into ?? { a: 0, b: 0, c: 0, k: 0 };
  st.k = !d.allowed && rule.blockForMs > 0 && d.retryAfterMs > 0 ? now + d.retryAfterMs : 0;
  st.c = 0;
  if (rule.algorithm === 'token-bucket') {
    st.a = d.remaining;
    st.b = now;
  } else {
    st.a = now - (now % rule.windowMs);
    st.b = rule.limit - d.remaining;
  }
  return st;
}
