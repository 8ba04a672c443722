import { readFile } from 'node:fs/promises';
import { looksLikeKey, REDACTED } from './cli-redact.js';
import { FernetError, FernetErrorCode } from './errors.js';
import type { FernetKey } from './key.js';
import { parseKey } from './key.js';

/** @internal A failure the CLI reports as a usage error (exit status 2): `ERR_FERNET_INVALID_ARGUMENT`. */
export const usageError = (message: string): FernetError =>
  new FernetError(FernetErrorCode.InvalidArgument, message);

/** @internal Where the CLI's keys come from. */
export interface KeySources {
  keyFile?: string | undefined;
  oldKeyFiles?: readonly string[] | undefined;
  env: NodeJS.ProcessEnv;
}

async function readKeyFile(path: string, flag: string): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (err) {
    // The path is named in the file system's message: a key given in its place must not be.
    if (!looksLikeKey(path)) throw err;
    const code = (err as { code?: unknown }).code;
    throw usageError(
      `${flag} ${REDACTED} cannot be read${typeof code === 'string' ? ` (${code})` : ''}: ` +
        `${flag} takes the path of a file holding the key, never the key itself`,
    );
  }
}

/**
 * @internal The current key (from `--key-file` or BACKUP_ENCRYPTION_KEY) followed by the old keys
 * (from each `--old-key-file` and the comma-separated BACKUP_ENCRYPTION_OLD_KEYS). Every key is
 * validated here, so a bad one fails before any file is touched; no key is ever echoed.
 */
export async function loadKeys(sources: KeySources): Promise<FernetKey[]> {
  const current = sources.keyFile
    ? await readKeyFile(sources.keyFile, '--key-file')
    : (sources.env.BACKUP_ENCRYPTION_KEY ?? '').trim();
  if (current === '') {
    throw usageError(
      'no key: set BACKUP_ENCRYPTION_KEY or pass --key-file FILE (keys are never read from the command line)',
    );
  }
  const old: string[] = [];
  for (const file of sources.oldKeyFiles ?? []) old.push(await readKeyFile(file, '--old-key-file'));
  for (const k of (sources.env.BACKUP_ENCRYPTION_OLD_KEYS ?? '').split(',')) {
    if (k.trim() !== '') old.push(k.trim());
  }
  const keys = [current, ...old];
  keys.forEach((k, i) => {
    try {
      parseKey(k);
    } catch (err) {
      const which = i === 0 ? 'the key' : `old key #${i}`;
      throw usageError(`${which} is invalid: ${(err as Error).message.replace(/^[^:]*: /, '')}`);
    }
  });
  return keys;
}
