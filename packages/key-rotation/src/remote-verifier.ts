import { type Clock, type Duration, Emitter, type Events, isOrgError } from '@org/core';
import { claimChecks, type JwtPayload } from './claims.js';
import {
  check,
  invalidOption,
  isKeyRotationError,
  KeyRotationError,
  KeyRotationErrorCode,
} from './errors.js';
import { createJwksCache, type JwksCacheEvents, type JwksKeys } from './jwks-cache.js';
import type { RemoteAlgorithm } from './jwks-keys.js';
import { DEFAULT_MAX_TOKEN_BYTES, HeaderCache, verifyCompact } from './jws.js';
import type { VerifyResult } from './key-ring-types.js';
import type { VerifyOptions } from './options.js';
import { recordVerify } from './telemetry.js';
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

/**
 * Events of a remote verifier, each also published on `org:key-rotation:<event>`. `reject` is
 * the ring's event too: one channel for every refused token.
 */
export type RemoteVerifierEvents = JwksCacheEvents & {
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

const NEGATIVE_MAX = 10_000;
const JWT_CODE_PREFIX = 'ERR_KEY_ROTATION_JWT_';

/**
 * Verifies tokens against the JWKS at `jwksUrl`: a TTL cache of keys imported once per kid,
 * one fetch at a time, a cooldown and a negative cache for unknown kids, and the last good
 * JWKS kept for `staleTtl` while the endpoint is down.
 *
 * `jwksUrl` is trust configuration: whoever controls it chooses the keys that verify. Take it
 * from your configuration, never from a request (a `Host` or `X-Forwarded-Host` header, a
 * token's `iss`, `jku` or `x5u`), and make one verifier per issuer at startup.
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
  const clock = clockOption(options.clock);
  const maxTokenBytes = check.integer(
    options.maxTokenBytes,
    'maxTokenBytes',
    DEFAULT_MAX_TOKEN_BYTES,
    { min: 1 },
  );
  const tolerance = wireSeconds(options.clockTolerance, 'clockTolerance', 0);
  const negativeTtl = check.duration(options.negativeCacheTtl, 'negativeCacheTtl', '1m');
  const events = new Emitter<RemoteVerifierEvents>('key-rotation');
  const jwks = createJwksCache(
    {
      url,
      cacheTtlMs: check.duration(options.cacheTtl, 'cacheTtl', '10m'),
      cooldownMs: check.duration(options.cooldown, 'cooldown', '30s'),
      staleTtlMs: check.duration(options.staleTtl, 'staleTtl', '6h'),
      timeoutMs: check.duration(options.timeout, 'timeout', '5s', { min: 1 }),
      maxJwksBytes: check.integer(options.maxJwksBytes, 'maxJwksBytes', 1 << 20, { min: 1 }),
      fetch: options.fetch ?? globalThis.fetch,
      headers: options.headers,
      algorithms: options.algorithms ?? ['RS256', 'ES256', 'EdDSA'],
      clock,
    },
    // RemoteVerifierEvents includes JwksCacheEvents; TypeScript cannot relate the two K-indexed types.
    (event, payload) => events.emit(event, payload as never),
  );
  const headers = new HeaderCache();
  // Kids the latest JWKS did not hold: refused without a fetch until their entry runs out.
  const negative = new Map<string, number>();
  events.on('jwks-fetch', () => negative.clear());

  function remember(kid: string, now: number): void {
    if (negative.size >= NEGATIVE_MAX) negative.clear();
    negative.set(kid, now + negativeTtl);
  }

  async function verifyWith(token: string, opts: RemoteVerifyOptions, set: JwksKeys) {
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
    let set = await jwks.usable(opts.signal);
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
      if (jwks.coolingDown(now)) throw err;
      // One fetch at a time: every caller with an unknown kid waits on the same request.
      await jwks.fetch('unknown-kid', opts.signal).catch((e: unknown) => {
        // The caller's abort is theirs to see; a failed fetch leaves the kid unknown.
        if (isOrgError(e, 'ERR_ABORTED', 'ERR_TIMEOUT')) throw e;
      });
      set = jwks.keys() ?? set;
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
        const verified = await verifyToken<P>(token, opts);
        recordVerify('remote');
        return verified;
      } catch (err) {
        recordVerify('remote', err);
        if (isKeyRotationError(err) && err.code.startsWith(JWT_CODE_PREFIX)) {
          events.emit('reject', { code: err.code });
        }
        throw err;
      }
    },
    refresh: (signal) => jwks.fetch('manual', signal),
    kids: () => [...(jwks.keys()?.keys() ?? [])],
    on: (event, listener) => events.on(event, listener),
    once: (event, listener) => events.once(event, listener),
    async close() {
      jwks.close();
    },
  };
}
