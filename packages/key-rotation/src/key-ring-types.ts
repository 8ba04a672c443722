import type { Algorithm, PublicJwk } from './algorithms.js';
import type { JwtPayload } from './claims.js';
import type { ErrorCode } from './errors.js';
import type { JwksHandler, JwksHandlerOptions } from './jwks-handler.js';
import type { ProtectedHeader } from './jws.js';
import type { SignOptions, VerifyOptions } from './options.js';
import type { KeyInfo } from './ring-view.js';

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
  /** `verify()` refused a token (for alerting on spikes of bad signatures); never the token. */
  reject: { code: ErrorCode };
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
  /**
   * Signs `claims` with the active key: a compact JWS with `kid`, `iat` and `exp` (always set by
   * the ring); `iss`/`aud` come from the options, else `claims`, else the ring's defaults.
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
  stage(options?: { ifNonePending?: boolean; signal?: AbortSignal }): Promise<KeyInfo>;
  /**
   * Makes the oldest pending key (or a new one) the signing key; the previous one verifies
   * until now + gracePeriod. With `ifActiveOlderThan` (ms), rotates only when the active key is
   * older, checked against the latest stored ring (so concurrent schedulers rotate once).
   */
  rotate(options?: { ifActiveOlderThan?: number; signal?: AbortSignal }): Promise<KeyInfo>;
  /** Retires `kid` at once (a leaked key); retiring the signing key promotes another first. */
  retire(kid: string, options?: { signal?: AbortSignal }): Promise<void>;
  /** Every key with its status, newest first. */
  keys(): KeyInfo[];
  /** The public keys that still verify (pending, active, verify-only); never private or HS256. */
  jwks(): { keys: PublicJwk[] };
  /** A node:http handler serving `jwks()` with cache headers and ETag. */
  jwksHandler(options?: JwksHandlerOptions): JwksHandler;
  /** The same as a web `Response` (fetch handlers: Hono, Next.js, Workers-style servers). */
  jwksResponse(request?: Request, options?: JwksHandlerOptions): Response;
  /** Re-reads the store now (bounded by `storeTimeout`). */
  refresh(options?: { signal?: AbortSignal }): Promise<void>;
  on<E extends keyof KeyRingEvents>(
    event: E,
    listener: (payload: KeyRingEvents[E]) => void,
  ): () => void;
  /** Stops polling and the store subscription; the store itself stays open (it is yours). */
  close(): Promise<void>;
}
