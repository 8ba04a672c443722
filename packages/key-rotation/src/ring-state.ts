import type { RingState, StoredKey } from './key-store.js';

/** The status of a key at a given time. */
export type KeyStatus = 'pending' | 'active' | 'verify-only' | 'retired';

/** Retired kids remembered (without material) so that their tokens get ERR_JWT_KEY_RETIRED. */
export const RETIRED_KEPT = 100;

/** A key's status at `now` (ms): a verify-only key past `verifyUntil` is retired. */
export function statusAt(key: StoredKey, now: number): KeyStatus {
  if (key.status === 'verify-only' && key.verifyUntil !== undefined && now >= key.verifyUntil) {
    return 'retired';
  }
  return key.status;
}

/** Marks `key` retired and drops its private material. */
function retireKey(key: StoredKey, now: number): StoredKey {
  const { material: _m, acceptMissingKid: _a, ...rest } = key;
  return { ...rest, status: 'retired', retiredAt: key.retiredAt ?? key.verifyUntil ?? now };
}

/** Settles expired grace periods and bounds the list of retired kids. */
export function tidy(state: RingState, now: number): RingState {
  const keys = state.keys.map((k) =>
    k.status !== 'retired' && statusAt(k, now) === 'retired' ? retireKey(k, now) : k,
  );
  const retired = keys.filter((k) => k.status === 'retired');
  const drop = new Set(
    retired
      .sort((a, b) => (b.retiredAt ?? 0) - (a.retiredAt ?? 0))
      .slice(RETIRED_KEPT)
      .map((k) => k.kid),
  );
  return { version: state.version, keys: keys.filter((k) => !drop.has(k.kid)) };
}

/** The active key of a state, if any. */
export function activeOf(state: RingState): StoredKey | undefined {
  return state.keys.find((k) => k.status === 'active');
}

/**
 * Promotes `next` (already in `state` as pending, or a new record) to active; the previous
 * active key turns verify-only until `now + graceMs`; past `maxVerifyOnly` verify-only keys, the
 * oldest are retired.
 */
export function promote(
  state: RingState,
  next: StoredKey,
  now: number,
  graceMs: number,
  maxVerifyOnly = Number.POSITIVE_INFINITY,
): RingState {
  const keys = state.keys
    .filter((k) => k.kid !== next.kid)
    .map(
      (k): StoredKey =>
        k.status === 'active' ? { ...k, status: 'verify-only', verifyUntil: now + graceMs } : k,
    );
  keys.push({ ...next, status: 'active', activatedAt: now });
  return boundVerifyOnly({ version: state.version, keys }, now, maxVerifyOnly);
}

/**
 * Retires the oldest verify-only keys past `max` (earliest end of grace first, then the oldest
 * in the ring), so that rotations in a burst cannot grow the ring without bound.
 */
export function boundVerifyOnly(state: RingState, now: number, max: number): RingState {
  const verifyOnly = state.keys
    .map((k, i) => ({ k, i }))
    .filter(({ k }) => statusAt(k, now) === 'verify-only');
  if (verifyOnly.length <= max) return state;
  const drop = new Set(
    verifyOnly
      .sort((a, b) => (a.k.verifyUntil ?? 0) - (b.k.verifyUntil ?? 0) || a.i - b.i)
      .slice(0, verifyOnly.length - max)
      .map(({ k }) => k.kid),
  );
  return {
    version: state.version,
    keys: state.keys.map((k) => (drop.has(k.kid) ? retireKey(k, now) : k)),
  };
}

/** Retires `kid` at once. */
export function retire(state: RingState, kid: string, now: number): RingState {
  return {
    version: state.version,
    keys: state.keys.map((k) => (k.kid === kid ? retireKey(k, now) : k)),
  };
}

/** The oldest pending key, which the next rotation promotes. */
export function pendingOf(state: RingState): StoredKey | undefined {
  return state.keys
    .filter((k) => k.status === 'pending')
    .sort((a, b) => a.createdAt - b.createdAt)[0];
}

/**
 * Adds to `stored` the keys only `ours` holds (the store lost data, e.g. a Redis restart
 * without persistence). The store's active key stays the signing key; ours turns verify-only
 * for a grace period, so that no token signed by either side stops verifying.
 * Returns undefined when nothing is missing.
 */
export function merge(
  stored: RingState,
  ours: RingState,
  now: number,
  graceMs: number,
): RingState | undefined {
  const have = new Set(stored.keys.map((k) => k.kid));
  const missing = ours.keys.filter((k) => !have.has(k.kid));
  if (missing.length === 0) return undefined;
  const storedActive = activeOf(stored);
  const added = missing.map(
    (k): StoredKey =>
      k.status === 'active' && storedActive
        ? { ...k, status: 'verify-only', verifyUntil: now + graceMs }
        : k,
  );
  return { version: stored.version, keys: [...stored.keys, ...added] };
}
