import { type ImportedKey, importPrivateJwk } from './algorithms.js';
import { type SealKeys, unseal } from './at-rest.js';
import { KeyRotationError, KeyRotationErrorCode } from './errors.js';
import type { Jwk } from './jwk.js';
import { headerSegment } from './jws.js';
import type { RingState, StoredKey } from './key-store.js';
import { type KeyStatus, statusAt } from './ring-state.js';

/** A stored key with its imported KeyObjects and precomputed header. */
export interface Entry {
  readonly record: StoredKey;
  readonly key: ImportedKey | undefined;
  readonly header: string;
}

/** Public facts about one key of the ring. */
export interface KeyInfo {
  kid: string;
  alg: ImportedKey['alg'];
  status: KeyStatus;
  createdAt: Date;
  activatedAt: Date | undefined;
  /** End of the grace period of a verify-only key. */
  verifyUntil: Date | undefined;
  retiredAt: Date | undefined;
}

/**
 * The ring as this process sees it: an O(1) map by kid of keys imported once. Key material is
 * immutable per kid, so a new state re-uses every KeyObject it already holds.
 */
export class RingView {
  readonly version: number;
  readonly entries: ReadonlyMap<string, Entry>;
  readonly active: Entry | undefined;
  readonly legacy: Entry | undefined;

  constructor(
    readonly state: RingState,
    seal: SealKeys,
    previous: RingView | undefined,
  ) {
    this.version = state.version;
    const entries = new Map<string, Entry>();
    let active: Entry | undefined;
    let legacy: Entry | undefined;
    for (const record of state.keys) {
      const old = previous?.entries.get(record.kid);
      let key: ImportedKey | undefined;
      if (record.status !== 'retired' && record.material !== undefined) {
        // Re-used from the previous view; a retired key is dropped with it (nothing else holds it).
        key = old?.key;
        if (key === undefined) {
          const jwk = JSON.parse(unseal(seal, record.kid, record.material)) as Jwk;
          key = importPrivateJwk(record.alg, jwk);
          if (key.kid !== record.kid) {
            throw new KeyRotationError(
              KeyRotationErrorCode.Store,
              `stored key ${record.kid} does not match its kid`,
            );
          }
        }
      }
      const entry: Entry = { record, key, header: old?.header ?? headerSegment(record) };
      entries.set(record.kid, entry);
      if (record.status === 'active') active = entry;
      if (record.acceptMissingKid && key) legacy = entry;
    }
    this.entries = entries;
    this.active = active;
    this.legacy = legacy;
  }

  /** The key for `kid`, if it still verifies at `now`; throws ERR_JWT_KEY_RETIRED for a retired kid. */
  lookup(kid: string | undefined, now: number): ImportedKey | undefined {
    const entry = kid === undefined ? this.legacy : this.entries.get(kid);
    if (entry === undefined) return undefined;
    if (entry.key === undefined || statusAt(entry.record, now) === 'retired') {
      throw new KeyRotationError(
        KeyRotationErrorCode.JwtKeyRetired,
        'the key of this token is retired: sign in again to get a new token',
      );
    }
    return entry.key;
  }

  /** Every key with its status at `now`, newest first. */
  list(now: number): KeyInfo[] {
    const date = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms));
    return [...this.entries.values()]
      .map(({ record: r }) => ({
        kid: r.kid,
        alg: r.alg,
        status: statusAt(r, now),
        createdAt: new Date(r.createdAt),
        activatedAt: date(r.activatedAt),
        verifyUntil: date(r.verifyUntil),
        retiredAt: date(r.retiredAt),
      }))
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  }
}
