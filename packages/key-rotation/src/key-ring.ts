import { channel } from 'node:diagnostics_channel';
import {
  generateJwk,
  type ImportedKey,
  importPrivateJwk,
  isAlgorithm,
  type PublicJwk,
} from './algorithms.js';
import { ephemeralSealKeys, resolveSealKeys, seal as sealText } from './at-rest.js';
import { claimChecks, type JwtPayload } from './claims.js';
import { atLeast, toSeconds } from './duration.js';
import { ErrorCodes, isKeyRingError, KeyRingError } from './errors.js';
import { createEmitter } from './events.js';
import { createJwksHandler, jwksResponse } from './jwks-handler.js';
import { DEFAULT_MAX_TOKEN_BYTES, HeaderCache, signCompact, verifyCompact } from './jws.js';
import type { KeyRing, KeyRingEvents, VerifyResult } from './key-ring-types.js';
import { createMemoryKeyStore, type StoredKey } from './key-store.js';
import type { KeyRingOptions, VerifyOptions } from './options.js';
import { activeOf, pendingOf, promote, retire, statusAt } from './ring-state.js';
import type { SeedKey } from './seed.js';
import { createStoreSync } from './store-sync.js';

const rotateChannel = channel('org:key-rotation:rotate');
const rejectChannel = channel('org:key-rotation:reject');
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
  const maxTokenBytes = atLeast(
    options.maxTokenBytes ?? DEFAULT_MAX_TOKEN_BYTES,
    1,
    'maxTokenBytes',
  );
  const tolerance = toSeconds(options.clockTolerance ?? 0, 'clockTolerance');
  const defaultExpiresIn = toSeconds(
    options.expiresIn ?? (graceMs === 0 ? 900 : Math.min(900, graceMs / 1000)),
    'expiresIn',
  );
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
  const storeTimeout = atLeast(options.storeTimeout ?? 5000, 1, 'storeTimeout');
  const events = createEmitter<KeyRingEvents>();
  const headers = new HeaderCache();
  let lastUnknownRefresh = 0;
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

  const sync = createStoreSync(store, sealKeys, clock, storeTimeout, graceMs, (version) =>
    events.emit('change', { version }),
  );
  const current = () => sync.view();
  const refresh = (signal?: AbortSignal) => sync.refresh(signal);
  const mutate = sync.mutate;

  await refresh(options.signal);
  if (!sync.peek()?.active) {
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
    }, options.signal);
  }

  const unsubscribe = store.subscribe?.(() => {
    refresh().catch((error: Error) => events.emit('error', { error }));
  });
  const refreshInterval = atLeast(options.refreshInterval ?? 5000, 0, 'refreshInterval');
  const timer =
    shared && refreshInterval > 0
      ? setInterval(() => {
          refresh().catch((error: Error) => events.emit('error', { error }));
        }, refreshInterval).unref()
      : undefined;

  /** Reports a refused token (its code only) to listeners and diagnostics_channel. */
  function rejected(err: unknown): unknown {
    if (isKeyRingError(err)) {
      events.emit('reject', { code: err.code });
      if (rejectChannel.hasSubscribers) rejectChannel.publish({ code: err.code });
    }
    return err;
  }

  function verifySync(token: string, opts: VerifyOptions): VerifyResult {
    const now = clock();
    const v = current();
    const result = verifyCompact(
      token,
      (kid) => v.lookup(kid, now),
      claimChecks(opts, options, now, tolerance),
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
      // gracePeriod 0 says "a rotation ends every token": then any lifetime is the caller's choice.
      if (graceMs > 0 && expiresIn * 1000 > graceMs) {
        throw new KeyRingError(
          ErrorCodes.OPTIONS,
          `expiresIn (${expiresIn} s) is longer than gracePeriod (${graceMs / 1000} s): such tokens would stop verifying before they expire once the key rotates; shorten expiresIn or raise gracePeriod`,
        );
      }
      const payload: JwtPayload = { ...claims, iat, exp: iat + expiresIn };
      // Precedence: the call's options, then the claims given, then the ring's defaults.
      const iss = opts.issuer ?? claims.iss ?? options.issuer;
      if (iss !== undefined) payload.iss = iss;
      if (opts.subject !== undefined) payload.sub = opts.subject;
      const aud = opts.audience ?? claims.aud ?? options.audience;
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
        const retry =
          shared &&
          isKeyRingError(err, ErrorCodes.JWT_UNKNOWN_KID) &&
          clock() - lastUnknownRefresh >= UNKNOWN_KID_REFRESH_MS;
        if (retry) {
          lastUnknownRefresh = clock();
          const before = sync.peek()?.version;
          await refresh().catch(() => undefined);
          if (sync.peek()?.version !== before) {
            try {
              return verifySync(token, opts) as VerifyResult<P>;
            } catch (again) {
              throw rejected(again);
            }
          }
        }
        throw rejected(err);
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
      }, opts.signal);
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
      }, opts.signal);
      if (rotated) {
        events.emit('rotate', rotated);
        if (rotateChannel.hasSubscribers) rotateChannel.publish(rotated);
      }
      return current()
        .list(clock())
        .find((k) => k.status === 'active')!;
    },
    async retire(kid, opts = {}) {
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
      }, opts.signal);
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
    jwksResponse: (request, handlerOptions) => jwksResponse(ring.jwks(), request, handlerOptions),
    refresh: (opts = {}) => refresh(opts.signal),
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
