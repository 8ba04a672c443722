import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ErrorCodes, KeyRingError } from '../errors.js';
import type { KeyStore, RingState } from '../key-store.js';

/** Options of {@link createFileKeyStore}. */
export interface FileKeyStoreOptions {
  /** Path of the JSON file that holds the ring (created with mode 0600). */
  path: string;
  /** Ms to wait for the lock file before a write fails. @default 5000 */
  lockTimeout?: number;
  /** Ms after which a lock file left by a crashed process is broken. @default 10000 */
  staleLock?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A key store in one file, for instances that share a disk (or one host). Writes take
 * `<path>.lock` (O_EXCL) and replace the file by an atomic rename of a fsynced temp file.
 * Private keys inside are sealed by the ring (AES-256-GCM); the file is still created 0600.
 */
export function createFileKeyStore(options: FileKeyStoreOptions): KeyStore {
  const { path } = options;
  const lockPath = `${path}.lock`;
  const lockTimeout = options.lockTimeout ?? 5000;
  const staleLock = options.staleLock ?? 10_000;

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
    const deadline = Date.now() + lockTimeout;
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
      if (info && Date.now() - info.mtimeMs > staleLock) {
        await unlink(lockPath).catch(() => undefined);
        continue;
      }
      if (Date.now() > deadline) {
        throw new KeyRingError(
          ErrorCodes.STORE,
          `timed out waiting for ${lockPath}; remove it if no process holds it`,
        );
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
