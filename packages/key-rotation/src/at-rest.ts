import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { decodeBase64url } from './base64url.js';
import { invalidOption, KeyRotationError, KeyRotationErrorCode } from './errors.js';
import type { EncryptionKey } from './options.js';

/**
 * The environment variable `createKeyRingFromEnv` reads the at-rest key(s) from (a
 * comma-separated list to re-key). Plain `createKeyRing` never reads the environment.
 */
export const ENCRYPTION_KEY_ENV = 'KEYRING_ENCRYPTION_KEY';

/** AES-256-GCM keys for key material at rest: the first encrypts, each one may decrypt. */
export interface SealKeys {
  readonly keys: readonly { id: string; key: Buffer }[];
}

const HELP =
  'it must be 32 bytes, given as 64 hex characters or base64 (e.g. `openssl rand -base64 32`)';

function toKey(value: string | Uint8Array, what: string): Buffer {
  let key: Buffer | undefined;
  if (typeof value !== 'string') key = Buffer.from(value);
  else if (/^[0-9a-f]{64}$/i.test(value)) key = Buffer.from(value, 'hex');
  else {
    const text = value.trim().replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
    key = decodeBase64url(text);
  }
  if (key === undefined || key.length !== 32) {
    throw invalidOption(`${what} is not a usable key: ${HELP}`);
  }
  return key;
}

/**
 * The at-rest key(s) of the `encryptionKey` option (a list: the first encrypts, all decrypt, for
 * re-keying); undefined when none is given.
 */
export function resolveSealKeys(option: EncryptionKey | undefined): SealKeys | undefined {
  if (option === undefined) return undefined;
  const list: (string | Uint8Array)[] = Array.isArray(option)
    ? [...option]
    : [option as string | Uint8Array];
  if (list.length === 0) return undefined;
  const keys = list.map((v, i) => {
    const key = toKey(v, i === 0 ? 'the encryption key' : `encryption key #${i + 1}`);
    return { id: createHash('sha256').update(key).digest('base64url').slice(0, 8), key };
  });
  return { keys };
}

/** Ephemeral keys for a ring that keeps its keys in memory only. */
export function ephemeralSealKeys(): SealKeys {
  return { keys: [{ id: 'mem', key: randomBytes(32) }] };
}

/** Encrypts `plaintext` bound to `kid` (as AAD): `v1.<keyId>.<iv>.<ciphertext+tag>`. */
export function seal(keys: SealKeys, kid: string, plaintext: string): string {
  const k = keys.keys[0]!;
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', k.key, iv);
  cipher.setAAD(Buffer.from(kid, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return `v1.${k.id}.${iv.toString('base64url')}.${ct.toString('base64url')}`;
}

/** Decrypts what {@link seal} wrote for `kid`; one generic error on any failure. */
export function unseal(keys: SealKeys, kid: string, sealed: string): string {
  const fail = () =>
    new KeyRotationError(
      KeyRotationErrorCode.Encryption,
      'cannot decrypt the stored key material: give every instance the same encryptionKey (or list the old key after the new one while re-keying)',
    );
  const [v, id, ivText, ctText] = sealed.split('.');
  const entry = keys.keys.find((k) => k.id === id);
  const iv = ivText === undefined ? undefined : decodeBase64url(ivText);
  const ct = ctText === undefined ? undefined : decodeBase64url(ctText);
  if (v !== 'v1' || !entry || iv?.length !== 12 || ct === undefined || ct.length < 16) throw fail();
  try {
    const decipher = createDecipheriv('aes-256-gcm', entry.key, iv);
    decipher.setAAD(Buffer.from(kid, 'utf8'));
    decipher.setAuthTag(ct.subarray(ct.length - 16));
    return Buffer.concat([
      decipher.update(ct.subarray(0, ct.length - 16)),
      decipher.final(),
    ]).toString('utf8');
  } catch (cause) {
    throw Object.assign(fail(), { cause });
  }
}

/**
 * `sealed` re-sealed under the first key, when another key sealed it (re-keying happens with
 * each write of the ring); the same string when it is already sealed under the first key.
 */
export function reseal(keys: SealKeys, kid: string, sealed: string): string {
  const primary = keys.keys[0]!;
  if (sealed.split('.')[1] === primary.id) return sealed;
  return seal(keys, kid, unseal(keys, kid, sealed));
}
