import { createHash } from 'node:crypto';
import { type FernetKey, MultiFernet } from '@org/backup-crypto';
import { BackupError, BackupErrorCode, invalidOption } from './errors.js';

/** The keys of a backup instance: the first encrypts, every one decrypts. */
export interface KeyRing {
  /** Keys in order, the current one first. */
  readonly keys: readonly FernetKey[];
  /** Key id of each key, in the same order. */
  readonly ids: readonly string[];
}

function keyBytes(key: FernetKey): Buffer {
  if (typeof key === 'string') return Buffer.from(key.trim().slice(0, 43), 'base64');
  return Buffer.from(key);
}

/**
 * The key id of a Fernet key: the first 8 hex digits of the SHA-256 of its 32 bytes. It names a
 * key in manifests and errors without revealing it.
 */
export function keyId(key: FernetKey): string {
  keyRing(key);
  return idOf(key);
}

const idOf = (key: FernetKey) =>
  createHash('sha256').update(keyBytes(key)).digest('hex').slice(0, 8);

/** Validates `key` (one key or several, current first) and computes their ids. */
export function keyRing(key: unknown): KeyRing {
  const list = Array.isArray(key) ? key : [key];
  if (list.length === 0 || list.some((k) => typeof k !== 'string' && !(k instanceof Uint8Array))) {
    throw invalidOption(
      '`key` must be a Fernet key (44 characters of url-safe base64, or 32 bytes) or a list of them, the current key first',
    );
  }
  const keys = list as FernetKey[];
  try {
    // Parses every key once; the message of a bad key never shows the key.
    new MultiFernet(keys);
  } catch (err) {
    throw invalidOption(
      '`key` holds a value that is not a Fernet key (32 bytes in url-safe base64, e.g. from `backup-crypto keygen`)',
      err,
    );
  }
  return { keys, ids: keys.map(idOf) };
}

/** The keys to decrypt a backup made with `id`, or ERR_BACKUP_KEY_MISSING naming it. */
export function keysFor(ring: KeyRing, id: string | undefined): FernetKey[] {
  if (id === undefined) return [...ring.keys];
  const at = ring.ids.indexOf(id);
  if (at === -1) throw keyMissing(ring, id);
  return [ring.keys[at]!];
}

/** ERR_BACKUP_KEY_MISSING for a backup that needs key `id` (undefined: unknown, a legacy file). */
export function keyMissing(ring: KeyRing, id: string | undefined): BackupError {
  const have = ring.ids.join(', ');
  return new BackupError(
    BackupErrorCode.KeyMissing,
    id === undefined
      ? `The backup cannot be decrypted with the configured keys (key ids ${have}): add the key it was made with`
      : `The backup was encrypted with key id ${id}, which is not configured (configured: ${have}): add that key (e.g. to BACKUP_ENCRYPTION_OLD_KEYS)`,
  );
}
