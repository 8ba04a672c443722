import type { Duration, Events } from '@org/core';
import type { Algorithm, PublicJwk } from './algorithms.js';
import type { JwtPayload } from './claims.js';
import type { KeyRotationErrorCode } from './errors.js';
import type { JwksHandler, JwksHandlerOptions } from './jwks-handler.js';
import type { ProtectedHeader } from './jws.js';
import type { SignOptions, VerifyOptions } from './options.js';
import type { KeyInfo } from './ring-view.js';

/**
 * Events of a ring, each also published on the diagnostics channel `org:key-rotation:<event>`
 * (`org:key-rotation:rotate`, `org:key-rotation:reject` …).
 */
export type KeyRingEvents = {
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
  /** `verify()` refused a token (for alerting on spikes of bad signatures); never the token. */
  reject: { code: KeyRotationErrorCode };
};

/** What {@link KeyRing.verify} returns. */
export interface VerifyResult<P extends JwtPayload = JwtPayload> {
  payload: P;
  protectedHeader: ProtectedHeader;
  /** The key that verified the token. */
  key: { kid: string; alg: Algorithm };
}

/** A ring of signing keys; see {@link createKeyRing}. */
export interface KeyRing extends Events<KeyRingEvents> {
  /** The algorithm of new keys. */
  readonly algorithm: Algorithm;
  /**
   * Signs `claims` with the active key: a compact JWS with `kid`, `iat` and `exp` (always set by
   * the ring); `iss`/`aud` come from the options, else `claims`, else the ring's defaults.
   * Rejects with `ERR_KEY_ROTATION_JWT_TOO_LARGE` for a token longer than `maxTokenBytes`,
   * which the ring's own `verify()` would refuse.
   */
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
  stage(options?: {
    ifNonePending?: boolean | undefined;
    signal?: AbortSignal | undefined;
  }): Promise<KeyInfo>;
  /**
   * Makes the oldest pending key (or a new one) the signing key; the previous one verifies
   * until now + gracePeriod. With `ifActiveOlderThan` (a Duration), rotates only when the active
   * key is older, checked against the latest stored ring (so concurrent schedulers rotate once).
   */
  rotate(options?: {
    ifActiveOlderThan?: Duration | undefined;
    signal?: AbortSignal | undefined;
  }): Promise<KeyInfo>;
  /** Retires `kid` at once (a leaked key); retiring the signing key promotes another first. */
  retire(kid: string, options?: { signal?: AbortSignal | undefined }): Promise<void>;
  /** Every key with its status, newest first. */
  keys(): KeyInfo[];
  /** The public keys that still verify (pending, active, verify-only); never private or HS256. */
  jwks(): { keys: PublicJwk[] };
  /** A node:http handler serving `jwks()` with cache headers and ETag. */
  jwksHandler(options?: JwksHandlerOptions): JwksHandler;
  /** The same as a web `Response` (fetch handlers: Hono, Next.js, Workers-style servers). */
  jwksResponse(request?: Request, options?: JwksHandlerOptions): Response;
  /** Re-reads the store now (bounded by `storeTimeout`). */
  refresh(options?: { signal?: AbortSignal | undefined }): Promise<void>;
  /**
   * Releases what the ring holds: its polling timer and its store subscription. The store stays
   * open (it is yours). Idempotent.
   */
  close(): Promise<void>;
}
