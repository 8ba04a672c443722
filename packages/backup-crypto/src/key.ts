import { randomBytes } from 'node:crypto';
import { FernetError, FernetErrorCode } from './errors.js';

/** A Fernet key: the url-safe base64 string of 32 bytes (as Python writes it), or the 32 bytes. */
export type FernetKey = string | Uint8Array;

/** @internal The two halves of a Fernet key. */
export interface KeyParts {
  readonly signingKey: Buffer;
  readonly encryptionKey: Buffer;
}

const KEY_HELP =
  'a Fernet key is 32 random bytes in url-safe base64 (44 characters ending in "=", e.g. from ' +
  '`backup-crypto keygen` or Python `Fernet.generate_key()`), or a 32-byte Buffer';

/**
 * A new random key, 32 bytes in url-safe base64 with padding: the same form as Python's
 * `Fernet.generate_key()`.
 */
export function generateKey(): string {
  return randomBytes(32).toString('base64url') + '=';
}

function decodeKeyString(key: string): Buffer | undefined {
  const s = key.trim();
  // 43 characters carry 32 bytes; an optional single "=" pads to 44. Both alphabets are accepted,
  // as Python's urlsafe_b64decode does.
  if (!/^[A-Za-z0-9_+/-]{43}=?$/.test(s)) return undefined;
  const bytes = Buffer.from(s.slice(0, 43), 'base64');
  return bytes.length === 32 ? bytes : undefined;
}

/** @internal Splits a key into its signing and encryption halves, or throws ERR_FERNET_INVALID_KEY. */
export function parseKey(key: FernetKey): KeyParts {
  let bytes: Buffer | undefined;
  if (typeof key === 'string') bytes = decodeKeyString(key);
  else if (key instanceof Uint8Array && key.byteLength === 32) bytes = Buffer.from(key);
  if (bytes === undefined) {
    throw new FernetError(FernetErrorCode.InvalidKey, `Invalid Fernet key: ${KEY_HELP}`);
  }
  return { signingKey: bytes.subarray(0, 16), encryptionKey: bytes.subarray(16, 32) };
}
