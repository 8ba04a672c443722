import type { Algorithm, PublicJwk } from './algorithms.js';

/** The life of a key as written in the store. */
export type StoredStatus = 'pending' | 'active' | 'verify-only' | 'retired';

/** One key as a store holds it: metadata in clear, private material encrypted. */
export interface StoredKey {
  kid: string;
  alg: Algorithm;
  status: StoredStatus;
  /** ms since the epoch. */
  createdAt: number;
  /** When it started signing, ms since the epoch. */
  activatedAt?: number;
  /** End of its grace period, ms since the epoch; past it the key counts as retired. */
  verifyUntil?: number;
  /** When it was retired, ms since the epoch. */
  retiredAt?: number;
  /** The private (or secret) JWK sealed with AES-256-GCM; dropped once retired. */
  material?: string;
  /** Public JWK, for asymmetric keys. */
  publicJwk?: PublicJwk;
  /** Verify tokens with no `kid` with this key (a legacy secret seeded by `fromSecret`). */
  acceptMissingKid?: boolean;
}

/**
 * A whole ring as a store holds it. `version` grows by one with each write; the first write to
 * an empty store picks a random one, and a random `lineage` that every later write keeps, so an
 * instance can tell a store that lost its data and was written afresh from the ring it knew,
 * even where the new ring has reached the same version.
 */
export interface RingState {
  version: number;
  keys: StoredKey[];
  /** Set by the first write to an empty store; absent in rings written before it existed. */
  lineage?: string;
}

/**
 * Where a ring keeps its keys so that several instances share them. Writes are
 * compare-and-set on `version`, so concurrent rotations never lose or double a key.
 */
export interface KeyStore {
  /** The stored ring, or undefined when nothing is stored yet. */
  load(): Promise<RingState | undefined>;
  /**
   * Writes `next` only if the stored version still is `expectedVersion` (0: nothing stored).
   * Resolves true when written, false when another writer came first.
   */
  compareAndSet(expectedVersion: number, next: RingState): Promise<boolean>;
  /** The stored version alone (0 when empty), for cheap polling. Optional: else `load()`. */
  version?(): Promise<number>;
  /** Calls `listener` soon after any instance writes. Optional: else the ring polls. */
  subscribe?(listener: () => void): () => void;
  /** Releases connections and timers the store created itself. */
  close?(): Promise<void>;
}

/** A store in this process's memory: rings created on the same store share their keys. */
export function createMemoryKeyStore(): KeyStore {
  let text: string | undefined;
  let version = 0;
  const listeners = new Set<() => void>();
  return {
    async load() {
      return text === undefined ? undefined : (JSON.parse(text) as RingState);
    },
    async compareAndSet(expected, next) {
      if (expected !== version) return false;
      text = JSON.stringify(next);
      version = next.version;
      for (const fn of listeners) queueMicrotask(fn);
      return true;
    },
    async version() {
      return version;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
