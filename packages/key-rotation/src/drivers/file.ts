import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type Duration, sleep, systemClock, TimeoutError } from '@org/core';
import { check, invalidOption } from '../errors.js';
import type { KeyStore, RingState } from '../key-store.js';

/** Options of {@link createFileKeyStore}. Durations are core `Duration`s. */
export interface FileKeyStoreOptions {
  /** Path of the JSON file that holds the ring (created with mode 0600). */
  path: string;
  /**
   * How long a write waits for the lock file before it rejects with core's `TimeoutError`.
   * @default '5s'
   */
  lockTimeout?: Duration | undefined;
  /** How old a lock file left by a crashed process must be to be broken. @default '10s' */
  staleLock?: Duration | undefined;
}

/**
 * A key store in one file, for instances that share a disk (or one host). Writes take
 * `<path>.lock` (O_EXCL) and replace the file by an atomic rename of a fsynced temp file.
 * Private keys inside are sealed by the ring (AES-256-GCM); the file is still created 0600.
 */
export function createFileKeyStore(options: FileKeyStoreOptions): KeyStore {
  const { path } = check.object(options, 'options');
  if (typeof path !== 'string' || path === '') {
    throw invalidOption('`path` must be the path of the file that holds the ring');
  }
  const lockPath = `${path}.lock`;
  const lockTimeoutMs = check.duration(options.lockTimeout, 'lockTimeout', '5s');
  const staleLockMs = check.duration(options.staleLock, 'staleLock', '10s', { min: 1 });
  // Lock ages are compared with file mtimes, which are wall-clock time.
  const now = () => systemClock.now();

  async function read(): Promise<RingState | undefined> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    return JSON.parse(text) as RingState;
  }

  async function lock(): Promise<() => Promise<void>> {
    const deadline = now() + lockTimeoutMs;
    await mkdir(dirname(path), { recursive: true });
    for (;;) {
      try {
        const handle = await open(lockPath, 'wx', 0o600);
        await handle.writeFile(String(process.pid));
        await handle.close();
        return () => unlink(lockPath).catch(() => undefined);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const info = await stat(lockPath).catch(() => undefined);
      if (info && now() - info.mtimeMs > staleLockMs) {
        await unlink(lockPath).catch(() => undefined);
        continue;
      }
      if (now() > deadline) {
        throw new TimeoutError(lockTimeoutMs, 'Waiting for the key store lock file', {
          hint: `remove ${lockPath} if no process holds it, or raise lockTimeout`,
        });
      }
      await sleep(5 + Math.random() * 20);
    }
  }

  return {
    load: read,
    async version() {
      return (await read())?.version ?? 0;
    },
    async compareAndSet(expected, next) {
      const release = await lock();
      try {
        if (((await read())?.version ?? 0) !== expected) return false;
        const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
        const handle = await open(tmp, 'w', 0o600);
        try {
          await handle.writeFile(JSON.stringify(next));
          await handle.sync();
        } finally {
          await handle.close();
        }
        await rename(tmp, path);
        return true;
      } finally {
        await release();
      }
    },
  };
}
