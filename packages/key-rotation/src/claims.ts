import { KeyRotationError, KeyRotationErrorCode } from './errors.js';
import type { VerifyOptions } from './options.js';
import { wireSeconds } from './time-options.js';

/** Registered JWT claims (RFC 7519) plus any of the application's own. */
export interface JwtPayload {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  /** Expiry, seconds since the epoch. */
  exp?: number;
  /** Not before, seconds since the epoch. */
  nbf?: number;
  /** Issued at, seconds since the epoch. */
  iat?: number;
  jti?: string;
  [claim: string]: unknown;
}

/** What {@link validateClaims} checks; built from ring and call options. */
export interface ClaimChecks {
  /** Now, seconds since the epoch. */
  now: number;
  /** Seconds of clock skew allowed on `exp`, `nbf` and `iat`. */
  tolerance: number;
  issuer: string | readonly string[] | undefined;
  audience: string | readonly string[] | undefined;
  /** Seconds; when set, `iat` is required and must be newer than now - maxTokenAge. */
  maxTokenAge: number | undefined;
  /** Whether `exp` must be present. */
  requireExp: boolean;
  subject: string | undefined;
  /** Required `typ` header (compared without case and `application/`). */
  typ?: string | undefined;
  /** The token's `typ` header, filled in by the verifier. */
  headerTyp?: unknown;
}

/**
 * The claim checks of one `verify` call: the call's options over the ring's (or remote
 * verifier's) issuer and audience, durations turned into the seconds of JWT times.
 */
export function claimChecks(
  opts: VerifyOptions,
  defaults: {
    issuer?: string | readonly string[] | undefined;
    audience?: string | readonly string[] | undefined;
  },
  nowMs: number,
  /** The ring's (or verifier's) clock tolerance, in seconds. */
  tolerance: number,
): ClaimChecks {
  return {
    now: Math.floor(nowMs / 1000),
    tolerance: wireSeconds(opts.clockTolerance, 'clockTolerance') ?? tolerance,
    issuer: opts.issuer ?? defaults.issuer,
    audience: opts.audience ?? defaults.audience,
    maxTokenAge: wireSeconds(opts.maxTokenAge, 'maxTokenAge'),
    requireExp: opts.requireExp ?? true,
    subject: opts.subject,
    typ: opts.typ,
  };
}

function claimError(claim: string, message: string): KeyRotationError {
  return new KeyRotationError(KeyRotationErrorCode.JwtClaimInvalid, message, { claim });
}

function isTime(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function oneOf(value: string, wanted: string | readonly string[]): boolean {
  return typeof wanted === 'string' ? value === wanted : wanted.includes(value);
}

/** Checks exp, nbf, iat, iss, aud, sub and maxTokenAge; throws a coded KeyRotationError. */
export function validateClaims(p: JwtPayload, c: ClaimChecks): void {
  const { now, tolerance } = c;
  if (p.exp !== undefined) {
    if (!isTime(p.exp)) throw claimError('exp', 'the exp claim must be a number');
    if (p.exp <= now - tolerance) {
      throw new KeyRotationError(KeyRotationErrorCode.JwtExpired, 'the token has expired', {
        claim: 'exp',
      });
    }
  } else if (c.requireExp) throw claimError('exp', 'the token has no exp claim');
  if (p.nbf !== undefined) {
    if (!isTime(p.nbf)) throw claimError('nbf', 'the nbf claim must be a number');
    if (p.nbf > now + tolerance) throw claimError('nbf', 'the token is not valid yet (nbf)');
  }
  if (p.iat !== undefined && !isTime(p.iat))
    throw claimError('iat', 'the iat claim must be a number');
  if (c.maxTokenAge !== undefined) {
    if (p.iat === undefined) throw claimError('iat', 'maxTokenAge needs an iat claim');
    // Only with maxTokenAge, as in jose: a signer whose clock runs ahead must not break verifiers.
    if (p.iat > now + tolerance) throw claimError('iat', 'the token was issued in the future');
    if (now - p.iat > c.maxTokenAge + tolerance) {
      throw new KeyRotationError(
        KeyRotationErrorCode.JwtExpired,
        'the token is older than maxTokenAge',
        {
          claim: 'iat',
        },
      );
    }
  }
  if (c.issuer !== undefined) {
    if (typeof p.iss !== 'string' || !oneOf(p.iss, c.issuer)) {
      throw claimError('iss', 'unexpected iss claim');
    }
  }
  if (c.audience !== undefined) {
    const aud = p.aud;
    const wanted = c.audience;
    const ok =
      typeof aud === 'string'
        ? oneOf(aud, wanted)
        : Array.isArray(aud) && aud.some((a) => typeof a === 'string' && oneOf(a, wanted));
    if (!ok) throw claimError('aud', 'unexpected aud claim');
  }
  if (c.typ !== undefined) {
    const norm = (t: unknown) =>
      typeof t === 'string' ? t.toLowerCase().replace(/^application\//, '') : undefined;
    if (norm(c.headerTyp) !== norm(c.typ)) throw claimError('typ', 'unexpected typ header');
  }
  if (c.subject !== undefined && p.sub !== c.subject) {
    throw claimError('sub', 'unexpected sub claim');
  }
}
