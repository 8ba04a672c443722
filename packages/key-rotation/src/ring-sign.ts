import type { Duration } from '@org/core';
import type { JwtPayload } from './claims.js';
import { KeyRotationError, KeyRotationErrorCode } from './errors.js';
import { signCompact } from './jws.js';
import type { KeyRingOptions, SignOptions } from './options.js';
import type { RingSettings } from './ring-settings.js';
import type { Entry } from './ring-view.js';
import { wireSeconds } from './time-options.js';

/** Signs claims with a ring's active key, under the ring's settings. */
export type RingSigner = (
  active: Entry | undefined,
  claims: JwtPayload,
  options: SignOptions,
) => string;

/**
 * The `sign()` of a ring: `iat` and `exp` from its clock, `iss`/`aud` from the call's options,
 * else the claims, else the ring's defaults; lifetimes past `gracePeriod` are refused.
 */
export function ringSigner(
  settings: RingSettings,
  defaults: Pick<KeyRingOptions, 'issuer' | 'audience'>,
): RingSigner {
  const { clock, graceMs } = settings;
  // The last lifetime given, parsed: most apps pass the same one on every call.
  let last: [Duration, number] | undefined;

  function lifetime(expiresIn: Duration | undefined): number {
    if (expiresIn === undefined) return settings.expiresIn;
    if (last?.[0] === expiresIn) return last[1];
    const seconds = wireSeconds(expiresIn, 'expiresIn', 0, 'positive');
    last = [expiresIn, seconds];
    return seconds;
  }

  return (active, claims, opts) => {
    if (!active?.key) {
      throw new KeyRotationError(
        KeyRotationErrorCode.NoActiveKey,
        'the ring has no active key: call rotate()',
      );
    }
    const iat = Math.floor(clock.now() / 1000);
    const expiresIn = lifetime(opts.expiresIn);
    // gracePeriod 0 says "a rotation ends every token": then any lifetime is the caller's choice.
    if (graceMs > 0 && expiresIn * 1000 > graceMs) {
      throw new KeyRotationError(
        KeyRotationErrorCode.InvalidOption,
        `expiresIn (${expiresIn} s) is longer than gracePeriod (${graceMs / 1000} s): such tokens would stop verifying before they expire once the key rotates; shorten expiresIn or raise gracePeriod`,
      );
    }
    const payload: JwtPayload = { ...claims, iat, exp: iat + expiresIn };
    // Precedence: the call's options, then the claims given, then the ring's defaults.
    const iss = opts.issuer ?? claims.iss ?? defaults.issuer;
    if (iss !== undefined) payload.iss = iss;
    if (opts.subject !== undefined) payload.sub = opts.subject;
    const aud = opts.audience ?? claims.aud ?? defaults.audience;
    if (aud !== undefined) payload.aud = aud;
    const nbf = wireSeconds(opts.notBefore, 'notBefore');
    if (nbf !== undefined) payload.nbf = iat + nbf;
    if (opts.jwtId !== undefined) payload.jti = opts.jwtId;
    const token = signCompact(active.key, active.header, payload);
    // A token the ring's own verify() would refuse is a bug to report now, not at the client.
    if (token.length > settings.maxTokenBytes) {
      throw new KeyRotationError(
        KeyRotationErrorCode.JwtTooLarge,
        `the signed token would be ${token.length} characters, more than maxTokenBytes (${settings.maxTokenBytes}) that verify() accepts: put less in the claims, or raise maxTokenBytes`,
      );
    }
    return token;
  };
}
