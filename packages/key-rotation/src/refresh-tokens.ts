import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { withDeadline } from './deadline.js';
import { ErrorCodes, isKeyRingError, KeyRingError } from './errors.js';
import { createEmitter } from './events.js';

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
  close?(): Promise<void>;
}

/** A store in this process's memory (tests, single instances). */
export function createMemoryRefreshTokenStore(clock: () => number = Date.now): RefreshTokenStore {
  const records = new Map<string, { record: RefreshTokenRecord; usedAt?: number }>();
  const revoked = new Map<string, number>();
  const sweep = () => {
    const now = clock();
    for (const [id, r] of records) if (r.record.expiresAt <= now) records.delete(id);
    for (const [f, until] of revoked) if (until <= now) revoked.delete(f);
  };
  return {
    async save(record) {
      if (records.size % 1000 === 999) sweep();
      records.set(record.id, { record: { ...record } });
    },
    async get(id) {
      const r = records.get(id);
      return r && r.record.expiresAt > clock() ? { ...r.record } : undefined;
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
      return (revoked.get(familyId) ?? 0) > clock();
    },
  };
}

/** Options of {@link createRefreshTokens}. */
export interface RefreshTokensOptions {
  /** Where tokens live. @default an in-memory store */
  store?: RefreshTokenStore;
  /** Ms each refresh token is valid. @default 2592000000 (30 days) */
  ttl?: number;
  /** Ms a family lives from its first token, however often it is rotated. @default 7776000000 (90 days) */
  familyTtl?: number;
  /** Current time in ms. @default Date.now */
  clock?: () => number;
  /** Ms each store call may take before it fails with `ERR_KEYRING_STORE`. @default 5000 */
  timeout?: number;
  /**
   * Ms after its first use during which a token presented again (a client retrying after a lost
   * response, two tabs refreshing at once) gets a new token of the family instead of revoking it.
   * A replay within this window is not detected, so keep it short.
   * @default 0 (any second use revokes the family)
   */
  reuseInterval?: number;
}

/** Per-call options of `issue()` and `rotate()`. */
export interface RefreshCallOptions {
  /** Abandons waiting for the store. */
  signal?: AbortSignal;
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

/** Events of the refresh-token helper. */
export interface RefreshTokenEvents extends Record<string, unknown> {
  /** A used token came back: its family is revoked (likely theft). */
  reuse: { familyId: string; subject: string };
}

/** Refresh tokens with rotation and reuse detection; see {@link createRefreshTokens}. */
export interface RefreshTokens {
  /** Starts a new family for `subject` (a login). */
  issue(
    subject: string,
    options?: RefreshCallOptions & { data?: Record<string, unknown> },
  ): Promise<IssuedRefreshToken>;
  /**
   * Exchanges `token` for the next one of its family. A token used twice revokes the family
   * (`ERR_REFRESH_TOKEN_REUSED`); later tokens of it fail with `ERR_REFRESH_TOKEN_REVOKED`.
   */
  rotate(token: string, options?: RefreshCallOptions): Promise<IssuedRefreshToken>;
  /** Revokes a family (logout everywhere for that login). */
  revokeFamily(familyId: string, options?: RefreshCallOptions): Promise<void>;
  on<E extends keyof RefreshTokenEvents>(
    event: E,
    listener: (payload: RefreshTokenEvents[E]) => void,
  ): () => void;
}

const TOKEN = /^rt1_([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;
const hash = (secret: string) => createHash('sha256').update(secret).digest();

/** Refresh tokens `rt1_<id>.<secret>`: the store keeps a SHA-256 of the secret only. */
export function createRefreshTokens(options: RefreshTokensOptions = {}): RefreshTokens {
  const clock = options.clock ?? Date.now;
  const store = options.store ?? createMemoryRefreshTokenStore(clock);
  const ttl = options.ttl ?? 30 * 86_400_000;
  const familyTtl = options.familyTtl ?? 90 * 86_400_000;
  const timeout = options.timeout ?? 5000;
  const reuseInterval = options.reuseInterval ?? 0;
  const events = createEmitter<RefreshTokenEvents>();
  const call = <T>(what: string, p: Promise<T>, signal: AbortSignal | undefined): Promise<T> =>
    withDeadline(
      p.catch((cause: unknown) => {
        if (isKeyRingError(cause)) throw cause;
        throw new KeyRingError(ErrorCodes.STORE, `the refresh token store failed to ${what}`, {
          cause,
        });
      }),
      timeout,
      `refresh token store ${what}`,
      signal,
    );
  const invalid = () =>
    new KeyRingError(
      ErrorCodes.REFRESH_TOKEN_INVALID,
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
    const expiresAt = Math.min(clock() + ttl, familyExpiresAt);
    const record: RefreshTokenRecord = {
      id,
      familyId,
      subject,
      hash: hash(secret).toString('base64url'),
      expiresAt,
      familyExpiresAt,
    };
    if (data !== undefined) record.data = data;
    await call('save', store.save(record), signal);
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
      return mint(subject, familyId, clock() + familyTtl, opts.data, opts.signal);
    },
    async rotate(token, opts = {}) {
      const { signal } = opts;
      const m = typeof token === 'string' ? TOKEN.exec(token) : null;
      if (!m) throw invalid();
      const record = await call('read', store.get(m[1]!), signal);
      if (!record) throw invalid();
      const given = hash(m[2]!);
      const want = Buffer.from(record.hash, 'base64url');
      if (want.length !== given.length || !timingSafeEqual(want, given)) throw invalid();
      const now = clock();
      if (record.expiresAt <= now) throw invalid();
      if (await call('read', store.isFamilyRevoked(record.familyId), signal)) {
        throw new KeyRingError(
          ErrorCodes.REFRESH_TOKEN_REVOKED,
          'this session was revoked: sign in again',
        );
      }
      const firstUse = await call('write', store.markUsed(record, now), signal);
      if (firstUse !== undefined && now - firstUse >= reuseInterval) {
        await call('write', store.revokeFamily(record.familyId, record.familyExpiresAt), signal);
        events.emit('reuse', { familyId: record.familyId, subject: record.subject });
        throw new KeyRingError(
          ErrorCodes.REFRESH_TOKEN_REUSED,
          'refresh token used twice: the session is revoked, sign in again',
        );
      }
      return mint(record.subject, record.familyId, record.familyExpiresAt, record.data, signal);
    },
    revokeFamily: (familyId, opts = {}) =>
      call('write', store.revokeFamily(familyId, clock() + familyTtl), opts.signal),
    on: (event, listener) => events.on(event, listener),
  };
}
