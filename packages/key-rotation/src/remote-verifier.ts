import type { ImportedKey } from './algorithms.js';
import { claimChecks, type JwtPayload } from './claims.js';
import { atLeast, toSeconds } from './duration.js';
import { type ErrorCode, ErrorCodes, isKeyRingError, KeyRingError } from './errors.js';
import { createEmitter } from './events.js';
import { parseJwks, type RemoteAlgorithm } from './jwks-keys.js';
import { DEFAULT_MAX_TOKEN_BYTES, HeaderCache, verifyCompact } from './jws.js';
import type { VerifyResult } from './key-ring-types.js';
import type { VerifyOptions } from './options.js';

/** Options of {@link createRemoteVerifier}. */
export interface RemoteVerifierOptions {
  /**
   * Ms a fetched JWKS counts as fresh; after it, a background refetch. A shorter
   * `Cache-Control: max-age` from the endpoint wins, so the publisher sets how soon its staged
   * keys are seen.
   * @default 600000 (10 min)
   */
  cacheTtl?: number;
  /**
   * Least ms between two fetches caused by unknown kids or by failures, so that random kids or
   * a down endpoint never turn into a fetch storm.
   * @default 30000
   */
  cooldown?: number;
  /** Ms a kid that the fresh JWKS did not hold is refused without a fetch. @default 60000 */
  negativeCacheTtl?: number;
  /**
   * Ms past `cacheTtl` that the last good JWKS is still used while the endpoint fails
   * (jwks-rsa issue 385). Bounded, so that a retired key does not verify forever. @default 21600000 (6 h)
   */
  staleTtl?: number;
  /** Ms one JWKS request may take. @default 5000 */
  timeout?: number;
  /** Largest JWKS accepted, in bytes. @default 1048576 */
  maxJwksBytes?: number;
  /** The fetch to use (a proxy agent, a test double). @default globalThis.fetch */
  fetch?: typeof globalThis.fetch;
  /** Extra request headers. @default none */
  headers?: Record<string, string>;
  /** Algorithms accepted from the JWKS. @default ['RS256', 'ES256', 'EdDSA'] */
  algorithms?: readonly RemoteAlgorithm[];
  /** Required `iss`. @default not checked */
  issuer?: string | readonly string[];
  /** Required `aud`. @default not checked */
  audience?: string | readonly string[];
  /** Seconds of clock skew allowed on `exp`, `nbf` and `iat`. @default 0 */
  clockTolerance?: number | string;
  /** Tokens longer than this many characters are refused before parsing. @default 8192 */
  maxTokenBytes?: number;
  /** Current time in ms since the epoch. @default Date.now */
  clock?: () => number;
}

/** Options of one remote `verify()` call. */
export interface RemoteVerifyOptions extends VerifyOptions {
  /** Abandons waiting for a JWKS fetch (the shared fetch itself goes on for other callers). */
  signal?: AbortSignal;
}

/** Events of a remote verifier. */
export interface RemoteVerifierEvents extends Record<string, unknown> {
  /** A JWKS fetch succeeded. */
  fetch: { keys: number; reason: 'initial' | 'expired' | 'unknown-kid' | 'manual' };
  /** A JWKS fetch failed; `stale` says whether the last good JWKS is still in use. */
  error: { error: KeyRingError; stale: boolean };
  /** `verify()` refused a token (its code only, never the token). */
  reject: { code: ErrorCode };
}

/** A verifier for services that only verify, against a remote JWKS; see {@link createRemoteVerifier}. */
export interface RemoteVerifier {
  verify<P extends JwtPayload = JwtPayload>(
    token: string,
    options?: RemoteVerifyOptions,
  ): Promise<VerifyResult<P>>;
  /** Fetches the JWKS now (still one fetch at a time). */
  refresh(signal?: AbortSignal): Promise<void>;
  /** The kids of the cached JWKS. */
  kids(): string[];
  on<E extends keyof RemoteVerifierEvents>(
    event: E,
    listener: (payload: RemoteVerifierEvents[E]) => void,
  ): () => void;
}

type Keys = Map<string, { json: string; key: ImportedKey }>;
const NEGATIVE_MAX = 10_000;

function raceSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/**
 * Verifies tokens against the JWKS at `jwksUrl`: a TTL cache of keys imported once per kid,
 * one fetch at a time, a cooldown and a negative cache for unknown kids, and the last good
 * JWKS kept for `staleTtl` while the endpoint is down.
 */
export function createRemoteVerifier(
  jwksUrl: string | URL,
  options: RemoteVerifierOptions = {},
): RemoteVerifier {
  let url: URL;
  try {
    url = new URL(jwksUrl);
  } catch (cause) {
    throw new KeyRingError(ErrorCodes.OPTIONS, 'jwksUrl must be an absolute http(s) URL', {
      cause,
    });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new KeyRingError(ErrorCodes.OPTIONS, 'jwksUrl must be an absolute http(s) URL');
  }
  const maxCacheTtl = atLeast(options.cacheTtl ?? 600_000, 0, 'cacheTtl');
  let cacheTtl = maxCacheTtl;
  const cooldown = atLeast(options.cooldown ?? 30_000, 0, 'cooldown');
  const negativeTtl = atLeast(options.negativeCacheTtl ?? 60_000, 0, 'negativeCacheTtl');
  const staleTtl = atLeast(options.staleTtl ?? 6 * 3600_000, 0, 'staleTtl');
  const timeout = atLeast(options.timeout ?? 5000, 1, 'timeout');
  const maxJwksBytes = options.maxJwksBytes ?? 1 << 20;
  const doFetch = options.fetch ?? globalThis.fetch;
  const allowed = options.algorithms ?? ['RS256', 'ES256', 'EdDSA'];
  const clock = options.clock ?? Date.now;
  const maxTokenBytes = atLeast(
    options.maxTokenBytes ?? DEFAULT_MAX_TOKEN_BYTES,
    1,
    'maxTokenBytes',
  );
  const tolerance = toSeconds(options.clockTolerance ?? 0, 'clockTolerance');
  const events = createEmitter<RemoteVerifierEvents>();
  const headers = new HeaderCache();
  const negative = new Map<string, number>();
  let keys: Keys | undefined;
  let fetchedAt = 0;
  let lastAttempt = Number.NEGATIVE_INFINITY;
  let inflight: Promise<void> | undefined;

  async function fetchOnce(reason: RemoteVerifierEvents['fetch']['reason']): Promise<void> {
    lastAttempt = clock();
    try {
      const res = await doFetch(url, {
        headers: { accept: 'application/jwk-set+json, application/json', ...options.headers },
        signal: AbortSignal.timeout(timeout),
      });
      if (!res.ok) throw new Error(`the JWKS endpoint answered HTTP ${res.status}`);
      const length = Number(res.headers.get('content-length') ?? 0);
      if (length > maxJwksBytes) throw new Error('the JWKS is larger than maxJwksBytes');
      const text = await res.text();
      if (text.length > maxJwksBytes) throw new Error('the JWKS is larger than maxJwksBytes');
      keys = parseJwks(text, allowed, keys);
      fetchedAt = clock();
      const maxAge = /(?:^|,)\s*max-age=(\d+)/i.exec(res.headers.get('cache-control') ?? '')?.[1];
      cacheTtl = maxAge === undefined ? maxCacheTtl : Math.min(maxCacheTtl, Number(maxAge) * 1000);
      negative.clear();
      events.emit('fetch', { keys: keys.size, reason });
    } catch (cause) {
      const stale = keys !== undefined && clock() - fetchedAt < cacheTtl + staleTtl;
      const error =
        cause instanceof KeyRingError
          ? cause
          : new KeyRingError(
              ErrorCodes.JWKS_UNAVAILABLE,
              `the JWKS at ${url.origin}${url.pathname} could not be fetched; check the endpoint`,
              { cause },
            );
      events.emit('error', { error, stale });
      throw error;
    }
  }

  function fetchShared(reason: RemoteVerifierEvents['fetch']['reason']): Promise<void> {
    inflight ??= fetchOnce(reason).finally(() => {
      inflight = undefined;
    });
    return inflight;
  }

  /** Keys usable now: fresh, or stale within staleTtl (refreshed in the background). */
  async function currentKeys(signal: AbortSignal | undefined): Promise<Keys> {
    const now = clock();
    const age = now - fetchedAt;
    const coolingDown = now - lastAttempt < cooldown;
    if (keys && age < cacheTtl) return keys;
    if (keys && age < cacheTtl + staleTtl) {
      if (!coolingDown && !inflight) fetchShared('expired').catch(() => undefined);
      return keys;
    }
    if (coolingDown && !inflight) {
      throw new KeyRingError(
        ErrorCodes.JWKS_UNAVAILABLE,
        'no usable JWKS: the last fetch failed and the cooldown has not passed',
      );
    }
    await raceSignal(fetchShared(keys ? 'expired' : 'initial'), signal);
    return keys as unknown as Keys;
  }

  function remember(kid: string, now: number): void {
    if (negative.size >= NEGATIVE_MAX) negative.clear();
    negative.set(kid, now + negativeTtl);
  }

  async function verifyWith(token: string, opts: RemoteVerifyOptions, set: Keys) {
    const now = clock();
    return verifyCompact(
      token,
      (kid) => (kid === undefined ? undefined : set.get(kid)?.key),
      claimChecks(opts, options, now, tolerance),
      maxTokenBytes,
      headers,
    );
  }

  async function verifyToken<P extends JwtPayload>(
    token: string,
    opts: RemoteVerifyOptions,
  ): Promise<VerifyResult<P>> {
    if (typeof token === 'string' && token.length > maxTokenBytes) {
      throw new KeyRingError(
        ErrorCodes.JWT_TOO_LARGE,
        `the token is larger than maxTokenBytes (${maxTokenBytes})`,
      );
    }
    let set = await currentKeys(opts.signal);
    let result: ReturnType<typeof verifyCompact>;
    try {
      result = await verifyWith(token, opts, set);
    } catch (err) {
      if (!(err instanceof KeyRingError) || err.code !== ErrorCodes.JWT_UNKNOWN_KID) throw err;
      const kid = (() => {
        try {
          const h = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString());
          return typeof h?.kid === 'string' ? (h.kid as string) : undefined;
        } catch {
          return undefined;
        }
      })();
      const now = clock();
      if (kid === undefined || (negative.get(kid) ?? 0) > now) throw err;
      // Within the cooldown no fetch, and no negative entry either: nothing was learnt.
      if (!inflight && now - lastAttempt < cooldown) throw err;
      // One fetch at a time: every caller with an unknown kid waits on the same request.
      await raceSignal(fetchShared('unknown-kid'), opts.signal).catch(() => undefined);
      set = keys ?? set;
      if (!set.has(kid)) {
        remember(kid, clock());
        throw err;
      }
      result = await verifyWith(token, opts, set);
    }
    return {
      payload: result.payload as P,
      protectedHeader: result.protectedHeader,
      key: { kid: result.protectedHeader.kid ?? result.key.kid, alg: result.key.alg },
    };
  }

  return {
    async verify<P extends JwtPayload = JwtPayload>(token: string, opts: RemoteVerifyOptions = {}) {
      try {
        return await verifyToken<P>(token, opts);
      } catch (err) {
        if (isKeyRingError(err) && err.code.startsWith('ERR_JWT_')) {
          events.emit('reject', { code: err.code });
        }
        throw err;
      }
    },
    refresh: (signal) => raceSignal(fetchShared('manual'), signal),
    kids: () => [...(keys?.keys() ?? [])],
    on: (event, listener) => events.on(event, listener),
  };
}
