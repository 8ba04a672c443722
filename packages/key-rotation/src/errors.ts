import { errorGuard, OrgError, optionChecks } from '@org/core';

/** Every stable error code of `@org/key-rotation`; match on these, never on messages. */
export const KeyRotationErrorCode = {
  /** Malformed token, bad header, `alg` not the key's pinned algorithm, unsupported `crit`. */
  JwtInvalid: 'ERR_KEY_ROTATION_JWT_INVALID',
  /** The token is larger than `maxTokenBytes`; refused before any parsing. */
  JwtTooLarge: 'ERR_KEY_ROTATION_JWT_TOO_LARGE',
  /** The signature does not verify with the key named by `kid`. */
  JwtSignatureInvalid: 'ERR_KEY_ROTATION_JWT_SIGNATURE_INVALID',
  /** `exp` is in the past (beyond `clockTolerance`), or `iat` is older than `maxTokenAge`. */
  JwtExpired: 'ERR_KEY_ROTATION_JWT_EXPIRED',
  /** A claim check failed: `iss`, `aud`, `sub`, `nbf`, `typ`, `iat`, or a missing `exp`. */
  JwtClaimInvalid: 'ERR_KEY_ROTATION_JWT_CLAIM_INVALID',
  /** The header names no `kid`, or a `kid` this ring (or JWKS) does not hold. */
  JwtUnknownKid: 'ERR_KEY_ROTATION_JWT_UNKNOWN_KID',
  /** The `kid` belongs to a key that was retired (grace period over, or `retire(kid)`). */
  JwtKeyRetired: 'ERR_KEY_ROTATION_JWT_KEY_RETIRED',
  /** An option or argument is missing or out of range; the message names it. */
  InvalidOption: 'ERR_KEY_ROTATION_INVALID_OPTION',
  /** The ring has no active key to sign with. */
  NoActiveKey: 'ERR_KEY_ROTATION_NO_ACTIVE_KEY',
  /** `retire(kid)` named a key the ring does not hold. */
  KeyNotFound: 'ERR_KEY_ROTATION_KEY_NOT_FOUND',
  /** The key store (or refresh-token store) failed, or a write kept losing a compare-and-set race. */
  Store: 'ERR_KEY_ROTATION_STORE',
  /** Stored key material could not be decrypted: wrong or missing encryption key. */
  Encryption: 'ERR_KEY_ROTATION_ENCRYPTION',
  /** The JWKS endpoint could not be fetched and no usable last-good copy is left. */
  JwksUnavailable: 'ERR_KEY_ROTATION_JWKS_UNAVAILABLE',
  /** The JWKS document is malformed, or publishes private or symmetric keys. */
  JwksInvalid: 'ERR_KEY_ROTATION_JWKS_INVALID',
  /** A refresh token is malformed, unknown or expired. */
  RefreshTokenInvalid: 'ERR_KEY_ROTATION_REFRESH_TOKEN_INVALID',
  /** A refresh token was presented a second time: its whole family is now revoked. */
  RefreshTokenReused: 'ERR_KEY_ROTATION_REFRESH_TOKEN_REUSED',
  /** The refresh token's family was revoked (reuse detected, or `revokeFamily`). */
  RefreshTokenRevoked: 'ERR_KEY_ROTATION_REFRESH_TOKEN_REVOKED',
} as const;

/** One of the {@link KeyRotationErrorCode} values. */
export type KeyRotationErrorCode = (typeof KeyRotationErrorCode)[keyof typeof KeyRotationErrorCode];

/**
 * The one error class of this package. `code` is stable; messages say what to fix and never
 * contain a token, a secret or key material. Aborts and timeouts reject with core's
 * `AbortedError` (`ERR_ABORTED`) and `TimeoutError` (`ERR_TIMEOUT`) instead.
 */
export class KeyRotationError extends OrgError<KeyRotationErrorCode> {
  override name = 'KeyRotationError';
  /** For `ERR_KEY_ROTATION_JWT_CLAIM_INVALID` and `…_JWT_EXPIRED`: the claim that failed. */
  readonly claim: string | undefined;

  constructor(
    code: KeyRotationErrorCode,
    message: string,
    options: { cause?: unknown; claim?: string } = {},
  ) {
    super(code, message, options.cause === undefined ? undefined : { cause: options.cause });
    this.claim = options.claim;
  }
}

/**
 * Whether `err` is a {@link KeyRotationError}, optionally with `code`; holds for an error thrown
 * by another copy of this package too.
 */
export const isKeyRotationError = errorGuard<KeyRotationError>('ERR_KEY_ROTATION_');

/** The one message of every signature failure, so that no oracle leaks which check failed. */
export const SIGNATURE_MESSAGE = 'signature verification failed';

/** @internal A bad option or argument. */
export function invalidOption(message: string, cause?: unknown): KeyRotationError {
  return new KeyRotationError(
    KeyRotationErrorCode.InvalidOption,
    message,
    cause === undefined ? {} : { cause },
  );
}

/** @internal The package's option checks, throwing `ERR_KEY_ROTATION_INVALID_OPTION`. */
export const check = optionChecks((message) => invalidOption(message));
