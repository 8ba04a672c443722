import { createPrivateKey, type KeyObject } from 'node:crypto';
import { type Algorithm, MIN_HMAC_SECRET_BYTES } from './algorithms.js';
import { encodeBase64url } from './base64url.js';
import { KeyRotationError, KeyRotationErrorCode } from './errors.js';
import type { Jwk } from './jwk.js';

/** An existing key that becomes the first active key of a new ring. */
export interface SeedKey {
  readonly alg: Algorithm;
  /** Private or `oct` JWK. */
  readonly jwk: Jwk;
  readonly acceptMissingKid: boolean;
}

/** Options of {@link fromSecret}. */
export interface FromSecretOptions {
  /**
   * Also verify tokens with no `kid` header with this secret, for tokens issued before the
   * ring existed. Only this key, only HS256, and only until it is retired.
   * @default false
   */
  acceptMissingKid?: boolean | undefined;
}

/**
 * Seeds a HS256 ring with an existing secret, e.g. `fromSecret(process.env.JWT_SECRET_KEY)`.
 * A string is used as its UTF-8 bytes. At least 32 bytes (RFC 7518 §3.2).
 */
export function fromSecret(
  secret: string | Uint8Array | undefined,
  options: FromSecretOptions = {},
): SeedKey {
  if (secret === undefined || secret.length === 0) {
    throw new KeyRotationError(
      KeyRotationErrorCode.InvalidOption,
      'fromSecret needs a secret (is JWT_SECRET_KEY set?)',
    );
  }
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
  if (bytes.length < MIN_HMAC_SECRET_BYTES) {
    throw new KeyRotationError(
      KeyRotationErrorCode.InvalidOption,
      `the HS256 secret must be at least ${MIN_HMAC_SECRET_BYTES} bytes; generate one with \`openssl rand -base64 32\``,
    );
  }
  return {
    alg: 'HS256',
    jwk: { kty: 'oct', k: encodeBase64url(bytes) },
    acceptMissingKid: options.acceptMissingKid ?? false,
  };
}

/**
 * Seeds an asymmetric ring with the key an app signs with today (PEM, KeyObject or private JWK),
 * so that its existing tokens keep verifying through the first rotation.
 */
export function fromPrivateKey(
  alg: Exclude<Algorithm, 'HS256'>,
  key: string | KeyObject | Jwk,
): SeedKey {
  let jwk: Jwk;
  try {
    const obj =
      typeof key === 'string'
        ? createPrivateKey(key)
        : 'type' in key && typeof key.export === 'function'
          ? (key as KeyObject)
          : createPrivateKey({ key: key as Jwk, format: 'jwk' });
    jwk = obj.export({ format: 'jwk' });
  } catch (cause) {
    throw new KeyRotationError(
      KeyRotationErrorCode.InvalidOption,
      'fromPrivateKey needs a private key (PEM, KeyObject or JWK)',
      {
        cause,
      },
    );
  }
  if (jwk.d === undefined) {
    throw new KeyRotationError(
      KeyRotationErrorCode.InvalidOption,
      'fromPrivateKey needs the private key, not the public one',
    );
  }
  return { alg, jwk, acceptMissingKid: false };
}
