import {
  abortable,
  type Clock,
  type Duration,
  Emitter,
  type Events,
  isOrgError,
  withTimeout,
} from '@org/core';
import type { ImportedKey } from './algorithms.js';
import { claimChecks, type JwtPayload } from './claims.js';
import {
  check,
  invalidOption,
  isKeyRotationError,
  KeyRotationError,
  KeyRotationErrorCode,
} from './errors.js';
import { parseJwks, type RemoteAlgorithm } from './jwks-keys.js';
import { DEFAULT_MAX_TOKEN_BYTES, HeaderCache, verifyCompact } from './jws.js';
import type { VerifyResult } from './key-ring-types.js';
import type { VerifyOptions } from './options.js';
import { clockOption, wireSeconds } from './time-options.js';

/** Options of {@link createRemoteVerifier}. Durations are core `Duration`s. */
export interface RemoteVerifierOptions {
  /**
   * How long a fetched JWKS counts as fresh; after it, a background refetch. A shorter
   * `Cache-Control: max-age` from the endpoint wins, so the publisher sets how soon its staged
   * keys are seen.
   * @default '10m'
   */
  cacheTtl?: Duration | undefined;
  /**
   * Least time between two fetches caused by unknown kids or by failures, so that random kids or
   * a down endpoint never turn into a fetch storm.
   * @default '30s'
   */
  cooldown?: Duration | undefined;
  /** How long a kid that the fresh JWKS did not hold is refused without a fetch. @default '1m' */
  negativeCacheTtl?: Duration | undefined;
  /**
   * How long past `cacheTtl` the last good JWKS is still used while the endpoint fails
   * (jwks-rsa issue 385). Bounded, so that a retired key does not verify forever. @default '6h'
   */
  staleTtl?: Duration | undefined;
  /** How long one JWKS request may take. @default '5s' */
  timeout?: Duration | undefined;
  /** Largest JWKS accepted, in bytes. @default 1048576 */
  maxJwksBytes?: number | undefined;
  /** The fetch to use (a proxy agent, a test double). @default globalThis.fetch */
  fetch?: typeof globalThis.fetch | undefined;
  /** Extra request headers. @default none */
  headers?: Record<string, string> | undefined;
  /** Algorithms accepted from the JWKS. @default ['RS256', 'ES256', 'EdDSA'] */
  algorithms?: readonly RemoteAlgorithm[] | undefined;
  /** Required `iss`. @default not checked */
  issuer?: string | readonly string[] | undefined;
  /** Required `aud`. @default not checked */
  audience?: string | readonly string[] | undefined;
  /** Clock skew allowed on `exp`, `nbf` and `iat`: 0 or at least `'1s'`. @default 0 */
  clockTolerance?: Duration | undefined;
  /** Tokens longer than this many characters are refused before parsing. @default 8192 */
  maxTokenBytes?: number | undefined;
  /** The time source. @default systemClock */
  clock?: Clock | undefined;
}

/** Options of one remote `verify()` call. */
export interface RemoteVerifyOptions extends VerifyOptions {
  /**
   * Abandons waiting for a JWKS fetch: the call rejects with core's `AbortedError` (the shared
   * fetch itself goes on for other callers).
   */
  signal?: AbortSignal | undefined;
}

/** Why a JWKS was fetched. */
export type JwksFetchReason = 'initial' | 'expired' | 'unknown-kid' | 'manual';

/**
 * Events of a remote verifier, each also published on `org:key-rotation:<event>`. `reject` is
 * the ring's event too: one channel for every refused token.
 */
export type RemoteVerifierEvents = {
  /** A JWKS fetch succeeded. */
  'jwks-fetch': { keys: number; reason: JwksFetchReason };
  /** A JWKS fetch failed; `stale` says whether the last good JWKS is still in use. */
  'jwks-error': { error: KeyRotationError; stale: boolean };
  /** `verify()` refused a token (its code only, never the token). */
  reject: { code: KeyRotationErrorCode };
};

/** A verifier for services that only verify, against a remote JWKS; see {@link createRemoteVerifier}. */
export interface RemoteVerifier extends Events<RemoteVerifierEvents> {
  verify<P extends JwtPayload = JwtPayload>(
    token: string,
    options?: RemoteVerifyOptions,
  ): Promise<VerifyResult<P>>;
  /** Fetches the JWKS now (still one fetch at a time). */
  refresh(signal?: AbortSignal): Promise<void>;
  /** The kids of the cached JWKS. */
  kids(): string[];
  /** Aborts a JWKS request under way; the verifier holds nothing else. Idempotent. */
  close(): Promise<void>;
}

type Keys = Map<string, { json: string; key: ImportedKey }>;
const NEGATIVE_MAX = 10_000;
const JWT_CODE_PREFIX = 'ERR_KEY_ROTATION_JWT_';

/** The body as UTF-8 text, or undefined (and the body cancelled) once it passes `max` bytes. */
async function readBounded(res: Response, max: number): Promise<string | undefined> {
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Verifies tokens against the JWKS at `jwksUrl`: a TTL cache of keys imported once per kid,
 * one fetch at a time, a cooldown and a negative cache for unknown kids, and the last good
 * JWKS kept for `staleTtl` while the endpoint is down.
 */
export function createRemoteVerifier(
  jwksUrl: string | URL,
  input: RemoteVerifierOptions = {},
): RemoteVerifier {
  let url: URL;
  try {
    url = new URL(jwksUrl);
  } catch (cause) {
    throw invalidOption('`jwksUrl` must be an absolute http(s) URL', cause);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw invalidOption('`jwksUrl` must be an absolute http(s) URL');
  }
  const options = check.object(input, 'options');
  const maxCacheTtl = check.duration(options.cacheTtl, 'cacheTtl', '10m');
  let cacheTtl = maxCacheTtl;
  const cooldown = check.duration(options.cooldown, 'cooldown', '30s');
  const negativeTtl = check.duration(options.negativeCacheTtl, 'negativeCacheTtl', '1m');
  const staleTtl = check.duration(options.staleTtl, 'staleTtl', '6h');
  const timeoutMs = check.duration(options.timeout, 'timeout', '5s', { min: 1 });
  const maxJwksBytes = check.integer(options.maxJwksBytes, 'maxJwksBytes', 1 << 20, { min: 1 });
  const doFetch = options.fetch ?? globalThis.fetch;
  const allowed = options.algorithms ?? ['RS256', 'ES256', 'EdDSA'];
  const clock = clockOption(options.clock);
  const maxTokenBytes = check.integer(
    options.maxTokenBytes,
    'maxTokenBytes',
    DEFAULT_MAX_TOKEN_BYTES,
    { min: 1 },
  );
  const tolerance = wireSeconds(options.clockTolerance, 'clockTolerance', 0);
  const events = new Emitter<RemoteVerifierEvents>('key-rotation');
  // Aborted by close(): ends a JWKS request under way.
  const lifetime = new AbortController();
  const headers = new HeaderCache();
  const negative = new Map<string, number>();
  let keys: Keys | undefined;
  let fetchedAt = 0;
  let lastAttempt = Number.NEGATIVE_INFINITY;
  let inflight: Promise<void> | undefined;

  const where = `${url.origin}${url.pathname}`;
  const TOO_LARGE = 'is larger than maxJwksBytes; raise it if the document is legitimate';
  const unavailable = (what: string) =>
    new KeyRotationError(KeyRotationErrorCode.JwksUnavailable, `the JWKS at ${where} ${what}`);

  /** The JWKS document, bounded by `timeout` (the cause of a failure is then core's TimeoutError). */
  function download(): Promise<{ text: string; cacheControl: string }> {
    return withTimeout(
      async (signal) => {
        const res = await doFetch(url, {
          headers: { accept: 'application/jwk-set+json, application/json', ...options.headers },
          signal,
        });
        const drop = () => res.body?.cancel().catch(() => undefined);
        if (!res.ok) {
          await drop();
          throw unavailable(`answered HTTP ${res.status}; check the endpoint`);
        }
        const length = Number(res.headers.get('content-length') ?? 0);
        if (length > maxJwksBytes) {
          await drop();
          throw unavailable(TOO_LARGE);
        }
        const text = await readBounded(res, maxJwksBytes);
        if (text === undefined) throw unavailable(TOO_LARGE);
        return { text, cacheControl: res.headers.get('cache-control') ?? '' };
      },
      { timeoutMs, signal: lifetime.signal, what: 'The JWKS request' },
    );
  }

  async function fetchOnce(reason: JwksFetchReason): Promise<void> {
    lastAttempt = clock.now();
    try {
      const { text, cacheControl } = await download();
      keys = parseJwks(text, allowed, keys);
      fetchedAt = clock.now();
      const maxAge = /(?:^|,)\s*max-age=(\d+)/i.exec(cacheControl)?.[1];
      cacheTtl = maxAge === undefined ? maxCacheTtl : Math.min(maxCacheTtl, Number(maxAge) * 1000);
      negative.clear();
      events.emit('jwks-fetch', { keys: keys.size, reason });
    } catch (cause) {
      const stale = keys !== undefined && clock.now() - fetchedAt < cacheTtl + staleTtl;
      // A timeout or a failure of the endpoint is the JWKS being unavailable: the shared fetch
      // fails the same way for every caller waiting on it, whatever its cause.
      const error = isKeyRotationError(cause)
        ? cause
        : new KeyRotationError(
            KeyRotationErrorCode.JwksUnavailable,
            `the JWKS at ${where} could not be fetched; check the endpoint (see the cause)`,
            { cause },
          );
      events.emit('jwks-error', { error, stale });
      throw error;
    }
  }

  function fetchShared(reason: JwksFetchReason): Promise<void> {
    inflight ??= fetchOnce(reason).finally(() => {
      inflight = undefined;
    });
    return inflight;
  }

  /** Keys usable now: fresh, or stale within staleTtl (refreshed in the background). */
  async function currentKeys(signal: AbortSignal | undefined): Promise<Keys> {
    const now = clock.now();
    const age = now - fetchedAt;
    const coolingDown = now - lastAttempt < cooldown;
    if (keys && age < cacheTtl) return keys;
    if (keys && age < cacheTtl + staleTtl) {
      if (!coolingDown && !inflight) fetchShared('expired').catch(() => undefined);
      return keys;
    }
    if (coolingDown && !inflight) {
      throw new KeyRotationError(
        KeyRotationErrorCode.JwksUnavailable,
        'no usable JWKS: the last fetch failed and the cooldown has not passed',
      );
    }
    await abortable(fetchShared(keys ? 'expired' : 'initial'), signal, 'Waiting for the JWKS');
    return keys as unknown as Keys;
  }

  function remember(kid: string, now: number): void {
    if (negative.size >= NEGATIVE_MAX) negative.clear();
    negative.set(kid, now + negativeTtl);
  }

  async function verifyWith(token: string, opts: RemoteVerifyOptions, set: Keys) {
    const now = clock.now();
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
      throw new KeyRotationError(
        KeyRotationErrorCode.JwtTooLarge,
        `the token is larger than maxTokenBytes (${maxTokenBytes})`,
      );
    }
    let set = await currentKeys(opts.signal);
    let result: ReturnType<typeof verifyCompact>;
    try {
      result = await verifyWith(token, opts, set);
    } catch (err) {
      if (!isKeyRotationError(err, KeyRotationErrorCode.JwtUnknownKid)) throw err;
      const kid = (() => {
        try {
          const h = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString());
          return typeof h?.kid === 'string' ? (h.kid as string) : undefined;
        } catch {
          return undefined;
        }
      })();
      const now = clock.now();
      if (kid === undefined || (negative.get(kid) ?? 0) > now) throw err;
      // Within the cooldown no fetch, and no negative entry either: nothing was learnt.
      if (!inflight && now - lastAttempt < cooldown) throw err;
      // One fetch at a time: every caller with an unknown kid waits on the same request.
      await abortable(fetchShared('unknown-kid'), opts.signal, 'Waiting for the JWKS').catch(
        (e: unknown) => {
          // The caller's abort is theirs to see; a failed fetch leaves the kid unknown.
          if (isOrgError(e, 'ERR_ABORTED', 'ERR_TIMEOUT')) throw e;
        },
      );
      set = keys ?? set;
      if (!set.has(kid)) {
        remember(kid, clock.now());
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
        if (isKeyRotationError(err) && err.code.startsWith(JWT_CODE_PREFIX)) {
          events.emit('reject', { code: err.code });
        }
        throw err;
      }
    },
    refresh: (signal) => abortable(fetchShared('manual'), signal, 'Waiting for the JWKS'),
    kids: () => [...(keys?.keys() ?? [])],
    on: (event, listener) => events.on(event, listener),
    once: (event, listener) => events.once(event, listener),
    async close() {
      lifetime.abort();
    },
  };
}
