import { randomInt } from 'node:crypto';
import { channel } from 'node:diagnostics_channel';
import {
  type Algorithm,
  generateJwk,
  type ImportedKey,
  importPrivateJwk,
  isAlgorithm,
  type PublicJwk,
} from './algorithms.js';
import { ephemeralSealKeys, resolveSealKeys, seal as sealText } from './at-rest.js';
import type { JwtPayload } from './claims.js';
import { toSeconds } from './duration.js';
import { ErrorCodes, isKeyRingError, KeyRingError } from './errors.js';
import { createEmitter } from './events.js';
import { createJwksHandler, type JwksHandler, type JwksHandlerOptions } from './jwks-handler.js';
import {
  DEFAULT_MAX_TOKEN_BYTES,
  HeaderCache,
  type ProtectedHeader,
  signCompact,
  verifyCompact,
} from './jws.js';
import { createMemoryKeyStore, type RingState, type StoredKey } from './key-store.js';
import type { KeyRingOptions, SignOptions, VerifyOptions } from './options.js';
import { activeOf, pendingOf, promote, retire, statusAt, tidy } from './ring-state.js';
import { type KeyInfo, RingView } from './ring-view.js';
import type { SeedKey } from './seed.js';

/** Events of a ring. */
export interface KeyRingEvents extends Record<string, unknown> {
  /** A new key signs from now on. */
  rotate: { kid: string; previousKid: string | undefined };
  /** A pending key was added (published in the JWKS, not signing yet). */
  stage: { kid: string };
  /** A key was retired at once. */
  retire: { kid: string };
  /** This instance loaded a newer version of the ring (its own write or another instance's). */
  change: { version: number };
  /** A background refresh from the store failed; the ring keeps its last view. */
  error: { error: Error };
}

/** What {@link KeyRing.verify} returns. */
export interface VerifyResult<P extends JwtPayload = JwtPayload> {
  payload: P;
  protectedHeader: ProtectedHeader;
  /** The key that verified the token. */
  key: { kid: string; alg: Algorithm };
}

/** A ring of signing keys; see {@link createKeyRing}. */
export interface KeyRing {
  /** The algorithm of new keys. */
  readonly algorithm: Algorithm;
  /** Signs `claims` with the active key: a compact JWS with `kid`, `iat` and `exp`. */
  sign(claims?: JwtPayload, options?: SignOptions): Promise<string>;
  /** Verifies a token against the key its `kid` names, with that key's pinned algorithm. */
  verify<P extends JwtPayload = JwtPayload>(
    token: string,
    options?: VerifyOptions,
  ): Promise<VerifyResult<P>>;
  /**
   * Adds a pending key: published in the JWKS, promoted by the next `rotate()`. With
   * `ifNonePending`, returns the pending key already staged (by any instance) instead.
   */
  stage(options?: { ifNonePending?: boolean }): Promise<KeyInfo>;
  /**
   * Makes the oldest pending key (or a new one) the signing key; the previous one verifies
   * until now + gracePeriod. With `ifActiveOlderThan` (ms), rotates only when the active key is
   * older, checked against the latest stored ring (so concurrent schedulers rotate once).
   */
  rotate(options?: { ifActiveOlderThan?: number }): Promise<KeyInfo>;
  /** Retires `kid` at once (a leaked key); retiring the signing key promotes another first. */
  retire(kid: string): Promise<void>;
  /** Every key with its status, newest first. */
  keys(): KeyInfo[];
  /** The public keys that still verify (pending, active, verify-only); never private or HS256. */
  jwks(): { keys: PublicJwk[] };
  /** A node:http handler serving `jwks()` with cache headers and ETag. */
  jwksHandler(options?: JwksHandlerOptions): JwksHandler;
  /** Re-reads the store now. */
  refresh(): Promise<void>;
  on<E extends keyof KeyRingEvents>(
    event: E,
    listener: (payload: KeyRingEvents[E]) => void,
  ): () => void;
  /** Stops polling and store subscriptions (and closes a store this ring created). */
  close(): Promise<void>;
}

const rotateChannel = channel('org:key-rotation:rotate');
const MAX_WRITE_ATTEMPTS = 20;
const UNKNOWN_KID_REFRESH_MS = 1000;

/**
 * Creates a ring of signing keys. With no `store`, the ring lives in memory and starts with one
 * fresh key (or the `seed`); with a store, it loads the shared ring or creates it.
 */
export async function createKeyRing(options: KeyRingOptions = {}): Promise<KeyRing> {
  const algorithm = options.seed?.alg ?? options.algorithm ?? 'RS256';
  if (!isAlgorithm(algorithm)) {
    throw new KeyRingError(
      ErrorCodes.OPTIONS,
      `algorithm must be one of RS256, ES256, EdDSA, HS256`,
    );
  }
  if (options.seed && options.algorithm && options.seed.alg !== options.algorithm) {
    throw new KeyRingError(
      ErrorCodes.OPTIONS,
      `the seed key is ${options.seed.alg}, not ${options.algorithm}`,
    );
  }
  const graceMs = toSeconds(options.gracePeriod ?? 7 * 86400, 'gracePeriod') * 1000;
  const clock = options.clock ?? Date.now;
  const maxTokenBytes = options.maxTokenBytes ?? DEFAULT_MAX_TOKEN_BYTES;
  const tolerance = toSeconds(options.clockTolerance ?? 0, 'clockTolerance');
  const defaultExpiresIn = toSeconds(options.expiresIn ?? 900, 'expiresIn');
  const shared = options.store !== undefined;
  const store = options.store ?? createMemoryKeyStore();
  const sealKeys =
    resolveSealKeys(options.encryptionKey) ?? (shared ? undefined : ephemeralSealKeys());
  if (sealKeys === undefined) {
    throw new KeyRingError(
      ErrorCodes.OPTIONS,
      'a ring with a store needs an encryption key for its private keys: set KEYRING_ENCRYPTION_KEY (32 random bytes, base64) or pass encryptionKey',
    );
  }
  const events = createEmitter<KeyRingEvents>();
  const headers = new HeaderCache();
  let view: RingView | undefined;
  let lastUnknownRefresh = 0;
  let refreshing: Promise<void> | undefined;
  let closed = false;

  async function newRecord(status: 'pending' | 'active', seedKey?: SeedKey): Promise<StoredKey> {
    const jwk = seedKey?.jwk ?? (await generateJwk(algorithm, options.modulusLength ?? 2048));
    const imported = importPrivateJwk(algorithm, jwk);
    const record: StoredKey = {
      kid: imported.kid,
      alg: algorithm,
      status,
      createdAt: clock(),
      material: sealText(sealKeys!, imported.kid, JSON.stringify(jwk)),
    };
    if (imported.publicJwk) record.publicJwk = imported.publicJwk;
    if (seedKey?.acceptMissingKid) record.acceptMissingKid = true;
    return record;
  }

  function apply(state: RingState): void {
    if (view && state.version <= view.version) return;
    view = new RingView(state, sealKeys!, view);
    events.emit('change', { version: state.version });
  }

  async function load(): Promise<void> {
    let state: RingState | undefined;
    try {
      state = await store.load();
    } catch (cause) {
      throw new KeyRingError(ErrorCodes.STORE, 'the key store could not be read', { cause });
    }
    if (state) apply(state);
  }

  /** Load, transform, compare-and-set; retried against the latest state on conflict. */
  async function mutate(fn: (state: RingState, now: number) => Promise<RingState | undefined>) {
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      let current: RingState;
      try {
        current = (await store.load()) ?? { version: 0, keys: [] };
      } catch (cause) {
        throw new KeyRingError(ErrorCodes.STORE, 'the key store could not be read', { cause });
      }
      const now = clock();
      const next = await fn(tidy(current, now), now);
      if (next === undefined) return apply(current);
      next.version = current.version + 1;
      let written: boolean;
      try {
        written = await store.compareAndSet(current.version, next);
      } catch (cause) {
        throw new KeyRingError(ErrorCodes.STORE, 'the key store could not be written', { cause });
      }
      if (written) return apply(next);
      await new Promise((r) => setTimeout(r, randomInt(5, 25 + attempt * 10)));
    }
    throw new KeyRingError(
      ErrorCodes.STORE,
      'gave up writing the key ring after repeated conflicts',
    );
  }

  function current(): RingView {
    if (!view) throw new KeyRingError(ErrorCodes.NO_ACTIVE_KEY, 'the ring has no keys');
    return view;
  }

  async function refresh(): Promise<void> {
    refreshing ??= (async () => {
      try {
        if (store.version && view && (await store.version()) === view.version) return;
        await load();
      } finally {
        refreshing = undefined;
      }
    })();
    return refreshing;
  }

  await load();
  if (!view?.active) {
    // Create the ring (or give it a signing key) unless another instance just did.
    let candidate: StoredKey | undefined;
    await mutate(async (state) => {
      if (activeOf(state)) return undefined;
      const pending = pendingOf(state);
      candidate ??= pending ? undefined : await newRecord('active', options.seed);
      // A seed that this ring already held (and maybe retired) is never brought back.
      if (candidate && state.keys.some((k) => k.kid === candidate?.kid)) {
        candidate = await newRecord('active');
      }
      return promote(state, pending ?? candidate!, clock(), graceMs);
    });
  }

  const unsubscribe = store.subscribe?.(() => {
    refresh().catch((error: Error) => events.emit('error', { error }));
  });
  const refreshInterval = options.refreshInterval ?? 5000;
  const timer =
    shared && refreshInterval > 0
      ? setInterval(() => {
          refresh().catch((error: Error) => events.emit('error', { error }));
        }, refreshInterval).unref()
      : undefined;

  function verifySync(token: string, opts: VerifyOptions): VerifyResult {
    const now = clock();
    const v = current();
    const result = verifyCompact(
      token,
      (kid) => v.lookup(kid, now),
      {
        now: Math.floor(now / 1000),
        tolerance:
          opts.clockTolerance === undefined
            ? tolerance
            : toSeconds(opts.clockTolerance, 'clockTolerance'),
        issuer: opts.issuer ?? options.issuer,
        audience: opts.audience ?? options.audience,
        maxTokenAge:
          opts.maxTokenAge === undefined ? undefined : toSeconds(opts.maxTokenAge, 'maxTokenAge'),
        requireExp: opts.requireExp ?? true,
        subject: opts.subject,
      },
      maxTokenBytes,
      headers,
    );
    const key: ImportedKey = result.key;
    return {
      payload: result.payload,
      protectedHeader: result.protectedHeader,
      key: { kid: key.kid, alg: key.alg },
    };
  }

  const ring: KeyRing = {
    algorithm,
    async sign(claims = {}, opts = {}) {
      const entry = current().active;
      if (!entry?.key)
        throw new KeyRingError(
          ErrorCodes.NO_ACTIVE_KEY,
          'the ring has no active key: call rotate()',
        );
      const iat = Math.floor(clock() / 1000);
      const expiresIn =
        opts.expiresIn === undefined ? defaultExpiresIn : toSeconds(opts.expiresIn, 'expiresIn');
      const payload: JwtPayload = { ...claims, iat, exp: iat + expiresIn };
      const iss = opts.issuer ?? options.issuer;
      if (iss !== undefined) payload.iss = iss;
      if (opts.subject !== undefined) payload.sub = opts.subject;
      const aud = opts.audience ?? options.audience;
      if (aud !== undefined) payload.aud = aud;
      if (opts.notBefore !== undefined) payload.nbf = iat + toSeconds(opts.notBefore, 'notBefore');
      if (opts.jwtId !== undefined) payload.jti = opts.jwtId;
      return signCompact(entry.key, entry.header, payload);
    },
    async verify<P extends JwtPayload = JwtPayload>(token: string, opts: VerifyOptions = {}) {
      try {
        return verifySync(token, opts) as VerifyResult<P>;
      } catch (err) {
        // Another instance may have rotated a moment ago: re-read the store, at most once a second.
        if (!shared || !isKeyRingError(err, ErrorCodes.JWT_UNKNOWN_KID)) throw err;
        const now = clock();
        if (now - lastUnknownRefresh < UNKNOWN_KID_REFRESH_MS) throw err;
        lastUnknownRefresh = now;
        const before = view?.version;
        await refresh();
        if (view?.version === before) throw err;
        return verifySync(token, opts) as VerifyResult<P>;
      }
    },
    async stage(opts = {}) {
      let fresh: StoredKey | undefined;
      let kid = '';
      let staged = false;
      await mutate(async (state) => {
        const pending = pendingOf(state);
        if (opts.ifNonePending && pending) {
          kid = pending.kid;
          staged = false;
          return undefined;
        }
        fresh ??= await newRecord('pending');
        kid = fresh.kid;
        staged = true;
        return { version: state.version, keys: [...state.keys, fresh] };
      });
      if (staged) events.emit('stage', { kid });
      return current()
        .list(clock())
        .find((k) => k.kid === kid)!;
    },
    async rotate(opts = {}) {
      let candidate: StoredKey | undefined;
      let rotated: { kid: string; previousKid: string | undefined } | undefined;
      await mutate(async (state, now) => {
        const active = activeOf(state);
        const since = active?.activatedAt ?? active?.createdAt ?? 0;
        if (
          opts.ifActiveOlderThan !== undefined &&
          active &&
          now - since < opts.ifActiveOlderThan
        ) {
          rotated = undefined;
          return undefined;
        }
        const pending = pendingOf(state);
        candidate ??= pending ? undefined : await newRecord('active');
        const next = pending ?? candidate!;
        rotated = { kid: next.kid, previousKid: active?.kid };
        return promote(state, next, now, graceMs);
      });
      if (rotated) {
        events.emit('rotate', rotated);
        if (rotateChannel.hasSubscribers) rotateChannel.publish(rotated);
      }
      return current()
        .list(clock())
        .find((k) => k.status === 'active')!;
    },
    async retire(kid) {
      let candidate: StoredKey | undefined;
      await mutate(async (state, now) => {
        const target = state.keys.find((k) => k.kid === kid);
        if (!target)
          throw new KeyRingError(
            ErrorCodes.KEY_NOT_FOUND,
            'retire(kid): no key with this kid in the ring',
          );
        if (target.status === 'retired') return undefined;
        let next = retire(state, kid, now);
        if (target.status === 'active') {
          const pending = pendingOf(next);
          candidate ??= pending ? undefined : await newRecord('active');
          next = promote(next, pending ?? candidate!, now, graceMs);
        }
        return next;
      });
      events.emit('retire', { kid });
    },
    keys: () => current().list(clock()),
    jwks() {
      const now = clock();
      const keys: PublicJwk[] = [];
      for (const { record } of current().entries.values()) {
        if (record.publicJwk && statusAt(record, now) !== 'retired') keys.push(record.publicJwk);
      }
      return { keys };
    },
    jwksHandler: (handlerOptions) => createJwksHandler(() => ring.jwks(), handlerOptions),
    refresh,
    on: (event, listener) => events.on(event, listener),
    async close() {
      if (closed) return;
      closed = true;
      if (timer) clearInterval(timer);
      unsubscribe?.();
    },
  };
  return ring;
}
