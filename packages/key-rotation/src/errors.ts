/** Every stable error code of `@org/key-rotation`. */
export const ErrorCodes = {
  /** Malformed token, bad header, `alg` not the key's pinned algorithm, unsupported `crit`. */
  JWT_INVALID: 'ERR_JWT_INVALID',
  /** The token is larger than `maxTokenBytes`; refused before any parsing. */
  JWT_TOO_LARGE: 'ERR_JWT_TOO_LARGE',
  /** The signature does not verify with the key named by `kid`. */
  JWT_SIGNATURE_INVALID: 'ERR_JWT_SIGNATURE_INVALID',
  /** `exp` is in the past (beyond `clockTolerance`). */
  JWT_EXPIRED: 'ERR_JWT_EXPIRED',
  /** A claim check failed: `iss`, `aud`, `nbf`, `iat`, `maxTokenAge`, or a required claim is missing. */
  JWT_CLAIM_INVALID: 'ERR_JWT_CLAIM_INVALID',
  /** The header names no `kid`, or a `kid` this ring (or JWKS) does not hold. */
  JWT_UNKNOWN_KID: 'ERR_JWT_UNKNOWN_KID',
  /** The `kid` belongs to a key that was retired (grace period over, or `retire(kid)`). */
  JWT_KEY_RETIRED: 'ERR_JWT_KEY_RETIRED',
  /** An option is missing or out of range; the message names it. */
  OPTIONS: 'ERR_KEYRING_OPTIONS',
  /** The ring has no active key to sign with. */
  NO_ACTIVE_KEY: 'ERR_KEYRING_NO_ACTIVE_KEY',
  /** `retire(kid)` / `activate(kid)` named a key the ring does not hold. */
  KEY_NOT_FOUND: 'ERR_KEYRING_KEY_NOT_FOUND',
  /** The key store failed, or a write kept losing a compare-and-set race. */
  STORE: 'ERR_KEYRING_STORE',
  /** Stored key material could not be decrypted: wrong or missing encryption key. */
  ENCRYPTION: 'ERR_KEYRING_ENCRYPTION',
  /** The JWKS endpoint could not be fetched and no usable last-good copy is left. */
  JWKS_UNAVAILABLE: 'ERR_JWKS_UNAVAILABLE',
  /** The JWKS document is malformed. */
  JWKS_INVALID: 'ERR_JWKS_INVALID',
  /** A refresh token is malformed, unknown or expired. */
  REFRESH_TOKEN_INVALID: 'ERR_REFRESH_TOKEN_INVALID',
  /** A refresh token was presented a second time: its whole family is now revoked. */
  REFRESH_TOKEN_REUSED: 'ERR_REFRESH_TOKEN_REUSED',
  /** The refresh token's family was revoked (reuse detected or `revokeFamily`). */
  REFRESH_TOKEN_REVOKED: 'ERR_REFRESH_TOKEN_REVOKED',
} as const;

/** One of the stable codes in {@link ErrorCodes}. */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

const brand = Symbol.for('@org/key-rotation/KeyRingError');

/**
 * The one error class of this package. `code` is stable; messages say what to fix and never
 * contain a token, a secret or key material.
 */
export class KeyRingError extends Error {
  override readonly name = 'KeyRingError';
  readonly code: ErrorCode;
  /** For `ERR_JWT_CLAIM_INVALID`: the claim that failed (`iss`, `aud`, `nbf`, `iat`, `exp`). */
  readonly claim: string | undefined;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; claim?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.claim = options.claim;
    Object.defineProperty(this, brand, { value: true });
  }
}

/** True for a {@link KeyRingError}, even one thrown by another copy of this package. */
export function isKeyRingError(err: unknown, code?: ErrorCode): err is KeyRingError {
  if (typeof err !== 'object' || err === null || !(brand in err)) return false;
  return code === undefined || (err as unknown as KeyRingError).code === code;
}

/** The one message of every signature failure, so that no oracle leaks which check failed. */
export const SIGNATURE_MESSAGE = 'signature verification failed';
