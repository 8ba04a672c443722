import { Emitter } from '@org/core';
import { generateJwk, type ImportedKey, importPrivateJwk, type PublicJwk } from './algorithms.js';
import { ENCRYPTION_KEY_ENV, seal as sealText } from './at-rest.js';
import { claimChecks, type JwtPayload } from './claims.js';
import { check, isKeyRotationError, KeyRotationError, KeyRotationErrorCode } from './errors.js';
import { createJwksHandler, jwksResponse } from './jwks-handler.js';
import { HeaderCache, verifyCompact } from './jws.js';
import type { KeyRing, KeyRingEvents, VerifyResult } from './key-ring-types.js';
import type { StoredKey } from './key-store.js';
import type { KeyRingOptions, VerifyOptions } from './options.js';
import { ringSettings } from './ring-settings.js';
import { ringSigner } from './ring-sign.js';
import { activeOf, pendingOf, promote, retire, statusAt } from './ring-state.js';
import type { SeedKey } from './seed.js';
import { createStoreSync } from './store-sync.js';
import { recordRotation, recordSign, recordVerify } from './telemetry.js';

const UNKNOWN_KID_REFRESH_MS = 1000;

/**
 * Creates a ring of signing keys. With no `store`, the ring lives in memory and starts with one
 * fresh key (or the `seed`); with a store, it loads the shared ring or creates it. Reads no
 * environment variable: see {@link createKeyRingFromEnv}.
 */
export async function createKeyRing(options: KeyRingOptions = {}): Promise<KeyRing> {
  const settings = ringSettings(options);
  const { algorithm, graceMs, clock, store, sealKeys, shared } = settings;
  const events = new Emitter<KeyRingEvents>('key-rotation');
  const headers = new HeaderCache();
  let lastUnknownRefresh = 0;
  let closed = false;

  async function newRecord(status: 'pending' | 'active', seedKey?: SeedKey): Promise<StoredKey> {
    const jwk = seedKey?.jwk ?? (await generateJwk(algorithm, settings.modulusLength));
    const imported = importPrivateJwk(algorithm, jwk);
    const record: StoredKey = {
      kid: imported.kid,
      alg: algorithm,
      status,
      createdAt: clock.now(),
      material: sealText(sealKeys, imported.kid, JSON.stringify(jwk)),
    };
    if (imported.publicJwk) record.publicJwk = imported.publicJwk;
    if (seedKey?.acceptMissingKid) record.acceptMissingKid = true;
    return record;
  }

  const sync = createStoreSync(
    store,
    sealKeys,
    clock,
    settings.storeTimeoutMs,
    graceMs,
    (version) => events.emit('change', { version }),
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
      return promote(
        state,
        pending ?? candidate!,
        clock.now(),
        graceMs,
        settings.maxVerifyOnlyKeys,
      );
    }, options.signal);
  }

  const backgroundRefresh = () => {
    refresh().catch((error: Error) => events.emit('error', { error }));
  };
  const unsubscribe = store.subscribe?.(backgroundRefresh);
  const timer =
    shared && settings.refreshIntervalMs > 0
      ? setInterval(backgroundRefresh, settings.refreshIntervalMs).unref()
      : undefined;

  /** Reports a refused token (its code only) to listeners and the diagnostics channel. */
  function rejected(err: unknown): unknown {
    recordVerify('ring', err);
    if (isKeyRotationError(err)) events.emit('reject', { code: err.code });
    return err;
  }

  function verifySync(token: string, opts: VerifyOptions): VerifyResult {
    const now = clock.now();
    const v = current();
    const result = verifyCompact(
      token,
      (kid) => v.lookup(kid, now),
      claimChecks(opts, options, now, settings.tolerance),
      settings.maxTokenBytes,
      headers,
    );
    const key: ImportedKey = result.key;
    recordVerify('ring');
    return {
      payload: result.payload,
      protectedHeader: result.protectedHeader,
      key: { kid: key.kid, alg: key.alg },
    };
  }

  const signWith = ringSigner(settings, options);

  const ring: KeyRing = {
    algorithm,
    async sign(claims = {}, opts = {}) {
      let token: string;
      try {
        token = signWith(current().active, claims, opts);
      } catch (err) {
        recordSign(err);
        throw err;
      }
      recordSign();
      return token;
    },
    async verify<P extends JwtPayload = JwtPayload>(token: string, opts: VerifyOptions = {}) {
      try {
        return verifySync(token, opts) as VerifyResult<P>;
      } catch (err) {
        // Another instance may have rotated a moment ago: re-read the store, at most once a second.
        const retry =
          shared &&
          isKeyRotationError(err, KeyRotationErrorCode.JwtUnknownKid) &&
          clock.now() - lastUnknownRefresh >= UNKNOWN_KID_REFRESH_MS;
        if (retry) {
          lastUnknownRefresh = clock.now();
          const before = sync.peek()?.version;
          // A store that fails leaves the token refused as it was; the caller's abort is theirs.
          await refresh(opts.signal).catch((refreshError: unknown) => {
            if (opts.signal?.aborted) throw refreshError;
          });
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
        .list(clock.now())
        .find((k) => k.kid === kid)!;
    },
    async rotate(opts = {}) {
      const olderThan = check.duration(opts.ifActiveOlderThan, 'ifActiveOlderThan');
      let candidate: StoredKey | undefined;
      let rotated: { kid: string; previousKid: string | undefined } | undefined;
      await mutate(async (state, now) => {
        const active = activeOf(state);
        const since = active?.activatedAt ?? active?.createdAt ?? 0;
        if (olderThan !== undefined && active && now - since < olderThan) {
          rotated = undefined;
          return undefined;
        }
        const pending = pendingOf(state);
        candidate ??= pending ? undefined : await newRecord('active');
        const next = pending ?? candidate!;
        rotated = { kid: next.kid, previousKid: active?.kid };
        return promote(state, next, now, graceMs, settings.maxVerifyOnlyKeys);
      }, opts.signal);
      if (rotated) {
        recordRotation();
        events.emit('rotate', rotated);
      }
      return current()
        .list(clock.now())
        .find((k) => k.status === 'active')!;
    },
    async retire(kid, opts = {}) {
      let candidate: StoredKey | undefined;
      await mutate(async (state, now) => {
        const target = state.keys.find((k) => k.kid === kid);
        if (!target) {
          throw new KeyRotationError(
            KeyRotationErrorCode.KeyNotFound,
            'retire(kid): no key with this kid in the ring',
          );
        }
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
    keys: () => current().list(clock.now()),
    jwks() {
      const now = clock.now();
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
    once: (event, listener) => events.once(event, listener),
    async close() {
      if (closed) return;
      closed = true;
      if (timer) clearInterval(timer);
      unsubscribe?.();
    },
  };
  return ring;
}

/** Options of {@link createKeyRingFromEnv}: those of `createKeyRing`, the key aside. */
export interface KeyRingFromEnvOptions extends Omit<KeyRingOptions, 'encryptionKey'> {
  /** Where to read the variables. @default process.env */
  env?: Readonly<Record<string, string | undefined>> | undefined;
}

/**
 * {@link createKeyRing} with its at-rest encryption key(s) from the environment. Reads exactly
 * one variable:
 * - `KEYRING_ENCRYPTION_KEY`: 32 bytes as 64 hex or base64 characters; several, comma-separated,
 *   to re-key (the first encrypts, all decrypt). Required when `store` is given.
 */
export function createKeyRingFromEnv(options: KeyRingFromEnvOptions = {}): Promise<KeyRing> {
  const { env = process.env, ...rest } = options;
  const value = env[ENCRYPTION_KEY_ENV]?.trim();
  const encryptionKey = value ? value.split(',').map((k) => k.trim()) : undefined;
  return createKeyRing({ ...rest, encryptionKey });
}
