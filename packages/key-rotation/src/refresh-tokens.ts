import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  type Clock,
  type Duration,
  Emitter,
  type Events,
  isOrgError,
  withTimeout,
} from '@org/core';
import { check, KeyRotationError, KeyRotationErrorCode } from './errors.js';
import { clockOption } from './time-options.js';

/** One refresh token as a store holds it: only a hash of its secret. */
export interface RefreshTokenRecord {
  id: string;
  familyId: string;
  subject: string;
  /** SHA-256 of the token's secret part, base64url. */
  hash: string;
  /** ms since the epoch. */
  expiresAt: number;
  /** End of the whole family (absolute lifetime), ms since the epoch. */
  familyExpiresAt: number;
  /** Application data carried from token to token (scopes, device id). */
  data?: Record<string, unknown>;
}

/**
 * Where refresh tokens live. `markUsed` must be atomic: of two concurrent calls for one id,
 * exactly one resolves undefined (the first use).
 */
export interface RefreshTokenStore {
  save(record: RefreshTokenRecord): Promise<void>;
  get(id: string): Promise<RefreshTokenRecord | undefined>;
  /**
   * Marks the token used at `at`. Resolves undefined when this call was the first use, else
   * the time (ms) of the first use.
   */
  markUsed(record: RefreshTokenRecord, at: number): Promise<number | undefined>;
  /** Revokes a whole family until `until` (ms since the epoch). */
  revokeFamily(familyId: string, until: number): Promise<void>;
  isFamilyRevoked(familyId: string): Promise<boolean>;
  /** Releases connections the store created itself; idempotent. */
  close?(): Promise<void>;
}

/** Options of {@link createMemoryRefreshTokenStore}. */
export interface MemoryRefreshTokenStoreOptions {
  /** The time source its expiries are read against. @default systemClock */
  clock?: Clock | undefined;
  /**
   * Most tokens kept. Past it, expired tokens are swept, then the oldest go (their holders must
   * sign in again; a used token that went can no longer reveal a replay), so that sign-ins in a
   * flood cannot grow memory without bound.
   * @default 100000
   */
  maxRecords?: number | undefined;
}

/** A store in this process's memory (tests, single instances), bounded by `maxRecords`. */
export function createMemoryRefreshTokenStore(
  options: MemoryRefreshTokenStoreOptions = {},
): RefreshTokenStore {
  const o = check.object(options, 'options');
  const clock = clockOption(o.clock);
  const maxRecords = check.integer(o.maxRecords, 'maxRecords', 100_000, { min: 1 });
  const records = new Map<string, { record: RefreshTokenRecord; usedAt?: number }>();
  const revoked = new Map<string, number>();
  let overflows = 0;
  const sweep = () => {
    const now = clock.now();
    for (const [id, r] of records) if (r.record.expiresAt <= now) records.delete(id);
    for (const [f, until] of revoked) if (until <= now) revoked.delete(f);
  };
  return {
    async save(record) {
      if (records.size % 1000 === 999) sweep();
      records.delete(record.id);
      records.set(record.id, { record: { ...record } });
      if (records.size > maxRecords) {
        // A sweep walks every token: at the bound, one save in a thousand pays for it.
        if (overflows++ % 1000 === 0) sweep();
        // Maps keep insertion order: the first keys are the oldest tokens.
        for (const id of records.keys()) {
          if (records.size <= maxRecords) break;
          records.delete(id);
        }
      }
    },
    async get(id) {
      const r = records.get(id);
      return r && r.record.expiresAt > clock.now() ? { ...r.record } : undefined;
    },
    async markUsed(record, at) {
      const r = records.get(record.id);
      if (!r) return 0;
      if (r.usedAt !== undefined) return r.usedAt;
      r.usedAt = at;
      return undefined;
    },
    async revokeFamily(familyId, until) {
      revoked.set(familyId, until);
    },
    async isFamilyRevoked(familyId) {
      return (revoked.get(familyId) ?? 0) > clock.now();
    },
  };
}

/** Options of {@link createRefreshTokens}. Durations are core `Duration`s. */
export interface RefreshTokensOptions {
  /** Where tokens live; never closed by the helper (it is yours). @default an in-memory store */
  store?: RefreshTokenStore | undefined;
  /** How long each refresh token is valid. @default '30d' */
  ttl?: Duration | undefined;
  /** How long a family lives from its first token, however often it is rotated. @default '90d' */
  familyTtl?: Duration | undefined;
  /** The time source. @default systemClock */
  clock?: Clock | undefined;
  /** How long each store call may take before it rejects with core's `TimeoutError`. @default '5s' */
  timeout?: Duration | undefined;
  /**
   * How long after its first use a token presented again (a client retrying after a lost
   * response, two tabs refreshing at once) gets a new token of the family instead of revoking it.
   * A replay within this window is not detected, so keep it short.
   * @default 0 (any second use revokes the family)
   */
  reuseInterval?: Duration | undefined;
}

/** Per-call options of `issue()`, `rotate()` and `revokeFamily()`. */
export interface RefreshCallOptions {
  /** Abandons waiting for the store: the call rejects with core's `AbortedError`. */
  signal?: AbortSignal | undefined;
}

/** A freshly issued refresh token. */
export interface IssuedRefreshToken {
  /** Give it to the client; it is never stored. */
  token: string;
  familyId: string;
  subject: string;
  expiresAt: Date;
  data: Record<string, unknown> | undefined;
}

/** Events of the refresh-token helper, each also published on `org:key-rotation:<event>`. */
export type RefreshTokenEvents = {
  /** A used token came back: its family is revoked (likely theft). */
  reuse: { familyId: string; subject: string };
};

/** Refresh tokens with rotation and reuse detection; see {@link createRefreshTokens}. */
export interface RefreshTokens extends Events<RefreshTokenEvents> {
  /** Starts a new family for `subject` (a login). */
  issue(
    subject: string,
    options?: RefreshCallOptions & { data?: Record<string, unknown> | undefined },
  ): Promise<IssuedRefreshToken>;
  /**
   * Exchanges `token` for the next one of its family. A token used twice revokes the family
   * (`ERR_KEY_ROTATION_REFRESH_TOKEN_REUSED`); later tokens of it fail with
   * `ERR_KEY_ROTATION_REFRESH_TOKEN_REVOKED`.
   */
  rotate(token: string, options?: RefreshCallOptions): Promise<IssuedRefreshToken>;
  /** Revokes a family (logout everywhere for that login). */
  revokeFamily(familyId: string, options?: RefreshCallOptions): Promise<void>;
}

const TOKEN = /^rt1_([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;
const hash = (secret: string) => createHash('sha256').update(secret).digest();

/** Refresh tokens `rt1_<id>.<secret>`: the store keeps a SHA-256 of the secret only. */
export function createRefreshTokens(input: RefreshTokensOptions = {}): RefreshTokens {
  const options = check.object(input, 'options');
  const clock = clockOption(options.clock);
  const store = options.store ?? createMemoryRefreshTokenStore({ clock });
  const ttl = check.duration(options.ttl, 'ttl', '30d', { min: 1 });
  const familyTtl = check.duration(options.familyTtl, 'familyTtl', '90d', { min: 1 });
  const timeoutMs = check.duration(options.timeout, 'timeout', '5s', { min: 1 });
  const reuseInterval = check.duration(options.reuseInterval, 'reuseInterval', 0);
  const events = new Emitter<RefreshTokenEvents>('key-rotation');
  // Each store call is bounded by `timeout` (core's TimeoutError) and the caller's signal (core's
  // AbortedError); what the store itself throws becomes ERR_KEY_ROTATION_STORE.
  const call = <T>(what: string, fn: () => Promise<T>, signal: AbortSignal | undefined) =>
    withTimeout(
      () =>
        new Promise<T>((resolve) => resolve(fn())).catch((cause: unknown) => {
          if (isOrgError(cause)) throw cause;
          throw new KeyRotationError(
            KeyRotationErrorCode.Store,
            `the refresh token store failed to ${what}; see the cause`,
            { cause },
          );
        }),
      {
        timeoutMs,
        signal,
        what: `The refresh token store call (${what})`,
        hint: 'check the store, or raise timeout',
      },
    );
  const invalid = () =>
    new KeyRotationError(
      KeyRotationErrorCode.RefreshTokenInvalid,
      'refresh token invalid or expired: sign in again',
    );

  async function mint(
    subject: string,
    familyId: string,
    familyExpiresAt: number,
    data: Record<string, unknown> | undefined,
    signal: AbortSignal | undefined,
  ): Promise<IssuedRefreshToken> {
    const id = randomBytes(16).toString('base64url');
    const secret = randomBytes(32).toString('base64url');
    const expiresAt = Math.min(clock.now() + ttl, familyExpiresAt);
    const record: RefreshTokenRecord = {
      id,
      familyId,
      subject,
      hash: hash(secret).toString('base64url'),
      expiresAt,
      familyExpiresAt,
    };
    if (data !== undefined) record.data = data;
    await call('save', () => store.save(record), signal);
    return {
      token: `rt1_${id}.${secret}`,
      familyId,
      subject,
      expiresAt: new Date(expiresAt),
      data,
    };
  }

  return {
    issue(subject, opts = {}) {
      const familyId = randomBytes(16).toString('base64url');
      return mint(subject, familyId, clock.now() + familyTtl, opts.data, opts.signal);
    },
    async rotate(token, opts = {}) {
      const { signal } = opts;
      const m = typeof token === 'string' ? TOKEN.exec(token) : null;
      if (!m) throw invalid();
      const record = await call('read', () => store.get(m[1]!), signal);
      if (!record) throw invalid();
      const given = hash(m[2]!);
      const want = Buffer.from(record.hash, 'base64url');
      if (want.length !== given.length || !timingSafeEqual(want, given)) throw invalid();
      const now = clock.now();
      if (record.expiresAt <= now) throw invalid();
      if (await call('read', () => store.isFamilyRevoked(record.familyId), signal)) {
        throw new KeyRotationError(
          KeyRotationErrorCode.RefreshTokenRevoked,
          'this session was revoked: sign in again',
        );
      }
      const firstUse = await call('write', () => store.markUsed(record, now), signal);
      if (firstUse !== undefined && now - firstUse >= reuseInterval) {
        await call(
          'write',
          () => store.revokeFamily(record.familyId, record.familyExpiresAt),
          signal,
        );
        events.emit('reuse', { familyId: record.familyId, subject: record.subject });
        throw new KeyRotationError(
          KeyRotationErrorCode.RefreshTokenReused,
          'refresh token used twice: the session is revoked, sign in again',
        );
      }
      return mint(record.subject, record.familyId, record.familyExpiresAt, record.data, signal);
    },
    revokeFamily: (familyId, opts = {}) =>
      call('write', () => store.revokeFamily(familyId, clock.now() + familyTtl), opts.signal),
    on: (event, listener) => events.on(event, listener),
    once: (event, listener) => events.once(event, listener),
  };
}
