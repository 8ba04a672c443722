import { randomBytes } from 'node:crypto';
import { constants, createWriteStream } from 'node:fs';
import {
  access,
  copyFile,
  mkdir,
  open,
  readFile,
  realpath,
  rename,
  rmdir,
  stat,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AbortedError, abortReason, isOrgError, type OrgError, throwIfAborted } from '@org/core';
import { bodyStream, HashingStream, validateMetadata } from '../body.js';
import { bodyFailed, type FirstFailure, failedInBody, watchFirstFailure } from '../body-errors.js';
import { check, isStorageError, notFound, StorageError, StorageErrorCode } from '../errors.js';
import { expiresInMs } from '../expires.js';
import {
  createSignedUrlHandler,
  type SignedUrlHandler,
  type StorageHandlerOptions,
} from '../handler.js';
import { createUrlSigner, type UrlSigningOptions } from '../signing.js';
import { withMappedErrors } from '../stream-errors.js';
import type { CallOptions, GetOptions, ObjectInfo, PutOptions, StorageDriver } from '../types.js';
import {
  assertInside,
  isDirectory,
  META_DIR,
  metaPath,
  objectPath,
  TMP_PREFIX,
  walk,
} from './local-paths.js';

/** Options of the local-disk driver. */
export interface LocalDriverOptions {
  /** Folder that holds the objects; created when missing. @default "./data" (from the cwd) */
  root?: string | undefined;
  /** Signed URLs: secret, base URL of `handler()`, clock. @default random secret per process */
  signing?: UrlSigningOptions | undefined;
  /** Flush files to disk (fsync) before they become visible. @default true */
  fsync?: boolean | undefined;
}

/** The local driver: a `StorageDriver` with a handler for its signed URLs. */
export interface LocalDriver extends StorageDriver {
  readonly root: string;
  /** A node:http handler serving the driver's signed URLs (GET, HEAD, PUT). */
  handler(options?: StorageHandlerOptions): SignedUrlHandler;
}

interface Sidecar {
  contentType: string;
  metadata: Record<string, string>;
  cacheControl?: string;
  sha256: string;
  size: number;
}

function keyConflict(key: string, cause?: unknown): StorageError {
  return new StorageError(
    StorageErrorCode.KeyConflict,
    `Key "${key}" conflicts with another object on disk: a key cannot be both an object and a folder of objects ("a" and "a/b")`,
    { key, cause },
  );
}

function fsError(err: unknown, key: string, read = false): OrgError {
  if (isOrgError(err)) return err;
  const code = (err as NodeJS.ErrnoException).code;
  // Reading "a/b" when "a" is an object: on S3 that is simply a missing key.
  if (code === 'ENOENT' || code === 'EISDIR' || (read && code === 'ENOTDIR')) {
    return notFound(key, err);
  }
  if (code === 'ENOTDIR' || code === 'EEXIST') return keyConflict(key, err);
  if ((err as Error).name === 'AbortError')
    return new AbortedError(err, `storage call on "${key}"`);
  return new StorageError(
    StorageErrorCode.Backend,
    `Local storage failed for "${key}" (${code ?? (err as Error).message}): check the root folder's permissions and free space`,
    { key, cause: err },
  );
}

/** Creates the local-disk driver (atomic writes, sidecar metadata, signed URLs). */
export function createLocalDriver(options: LocalDriverOptions = {}): LocalDriver {
  check.object(options, 'local');
  const root = resolve(check.string(options.root, 'root', './data'));
  const signer = createUrlSigner(options.signing);
  const fsync = check.boolean(options.fsync, 'fsync', true);
  let rootReal: Promise<string> | undefined;
  const ready = () => {
    rootReal ??= mkdir(root, { recursive: true }).then(() => realpath(root));
    return rootReal;
  };
  // Resolves the object's file, refusing symlinks out of the root.
  const locate = async (key: string, self: boolean) => {
    const real = await ready();
    const path = objectPath(root, key);
    await assertInside(real, path, key, self);
    return path;
  };
  const readSidecar = async (key: string): Promise<Partial<Sidecar>> => {
    try {
      return JSON.parse(await readFile(metaPath(root, key), 'utf8')) as Partial<Sidecar>;
    } catch {
      return {};
    }
  };
  const checkSignal = (signal: AbortSignal | undefined, what: string) =>
    throwIfAborted(signal, `storage ${what}`);

  const driver: LocalDriver = {
    name: 'local',
    root,

    async put(key, body, opts: PutOptions) {
      const metadata = validateMetadata(opts.metadata);
      checkSignal(opts.signal, 'put');
      const path = await locate(key, false);
      const dir = dirname(path);
      const tmp = `${dir}/${TMP_PREFIX}${randomBytes(8).toString('hex')}`;
      const sideDir = `${dir}/${META_DIR}`;
      const sideTmp = `${sideDir}/${TMP_PREFIX}${randomBytes(8).toString('hex')}`;
      let source: Readable | undefined;
      let watch: FirstFailure | undefined;
      try {
        await mkdir(sideDir, { recursive: true });
        await assertInside(await ready(), path, key, false);
        if (await isDirectory(path)) throw keyConflict(key);
        const hasher = new HashingStream();
        source = bodyStream(body);
        const out = createWriteStream(tmp, { flags: 'wx' });
        watch = watchFirstFailure(source, hasher, out);
        await pipeline(source, hasher, out, {
          ...(opts.signal ? { signal: opts.signal } : {}),
        });
        if (fsync) {
          // Flush the bytes before the rename publishes them, so a crash cannot publish a hole.
          const file = await open(tmp, 'r');
          await file.sync().finally(() => file.close());
        }
        const sidecar: Sidecar = {
          contentType: opts.contentType ?? 'application/octet-stream',
          metadata,
          ...(opts.cacheControl === undefined ? {} : { cacheControl: opts.cacheControl }),
          sha256: hasher.digest(),
          size: hasher.bytes,
        };
        await writeFile(sideTmp, JSON.stringify(sidecar));
        checkSignal(opts.signal, 'put');
        // Sidecar first, object last: the object appears whole, in one rename.
        await rename(sideTmp, metaPath(root, key));
        await rename(tmp, path);
        return { key, size: sidecar.size, sha256: sidecar.sha256 };
      } catch (err) {
        await unlink(tmp).catch(() => {});
        await unlink(sideTmp).catch(() => {});
        if (opts.signal?.aborted) throw abortReason(opts.signal, 'storage put');
        // The client went away or the app's stream failed: not a disk problem.
        if (source && watch && failedInBody(source, watch)) {
          throw bodyFailed(watch.first?.error ?? err, key);
        }
        throw fsError(err, key);
      }
    },

    async getStream(key, opts: GetOptions): Promise<Readable> {
      checkSignal(opts.signal, 'getStream');
      try {
        const path = await locate(key, true);
        const file = await open(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
        const { size } = await file.stat();
        let start = 0;
        let end = size - 1;
        if (opts.range !== undefined) {
          start = opts.range.start;
          end = Math.min(opts.range.end ?? size - 1, size - 1);
          if (!Number.isSafeInteger(start) || start < 0 || start >= size || end < start) {
            await file.close();
            throw new StorageError(
              StorageErrorCode.InvalidRange,
              `Range ${start}-${opts.range.end ?? ''} is outside "${key}" (${size} bytes)`,
              { key },
            );
          }
        }
        if (size === 0) {
          await file.close();
          const { Readable } = await import('node:stream');
          return Readable.from([]);
        }
        const signal = opts.signal;
        if (signal?.aborted) {
          await file.close();
          checkSignal(signal, 'getStream');
        }
        const stream = file.createReadStream({ start, end, ...(signal ? { signal } : {}) });
        // A stream destroyed before its first read (a client gone before the body was piped)
        // can leave the handle to the garbage collector, which Node 24+ reports and will throw
        // for: close it explicitly once the stream is closed (a second close is harmless).
        stream.once('close', () => {
          file.close().catch(() => {});
        });
        // An abort or a read error mid-transfer surfaces as the driver's other errors do.
        return withMappedErrors(stream, (err) =>
          signal?.aborted ? abortReason(signal, 'storage getStream') : fsError(err, key, true),
        );
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ELOOP') {
          throw new StorageError(
            StorageErrorCode.InvalidKey,
            `Key "${key}" is a symlink; refused`,
            { key },
          );
        }
        throw fsError(err, key, true);
      }
    },

    async head(key, opts: CallOptions): Promise<ObjectInfo> {
      checkSignal(opts.signal, 'head');
      try {
        const path = await locate(key, true);
        const st = await stat(path);
        if (!st.isFile()) throw notFound(key);
        const side = await readSidecar(key);
        const info: ObjectInfo = {
          key,
          size: st.size,
          lastModified: st.mtime,
          contentType: side.contentType ?? 'application/octet-stream',
          metadata: side.metadata ?? {},
        };
        if (side.cacheControl !== undefined) info.cacheControl = side.cacheControl;
        if (side.sha256 !== undefined && side.size === st.size) info.sha256 = side.sha256;
        return info;
      } catch (err) {
        throw fsError(err, key, true);
      }
    },

    async exists(key, opts) {
      return driver.head(key, opts).then(
        () => true,
        (err) => {
          if (isStorageError(err) && err.code === StorageErrorCode.NotFound) return false;
          throw err;
        },
      );
    },

    async delete(key, opts) {
      checkSignal(opts.signal, 'delete');
      const path = await locate(key, false);
      try {
        if (await isDirectory(path)) return;
        await unlink(path).catch((e: NodeJS.ErrnoException) => {
          if (e.code !== 'ENOENT' && e.code !== 'ENOTDIR') throw e;
        });
        await unlink(metaPath(root, key)).catch(() => {});
        // Prune folders left empty, so that the key "a" can be used again after "a/b" is gone.
        let dir = dirname(path);
        while (dir.length > root.length && dir.startsWith(root)) {
          await rmdir(`${dir}/${META_DIR}`).catch(() => {});
          if (
            !(await rmdir(dir).then(
              () => true,
              () => false,
            ))
          )
            break;
          dir = dirname(dir);
        }
      } catch (err) {
        throw fsError(err, key);
      }
    },

    async copy(from, to, opts) {
      checkSignal(opts.signal, 'copy');
      const src = await locate(from, true);
      const dst = await locate(to, false);
      const tmp = `${dirname(dst)}/${TMP_PREFIX}${randomBytes(8).toString('hex')}`;
      try {
        if (!(await stat(src)).isFile()) throw notFound(from);
        await mkdir(`${dirname(dst)}/${META_DIR}`, { recursive: true });
        await copyFile(src, tmp);
        const side = await readFile(metaPath(root, from)).catch(() => undefined);
        if (side !== undefined) await writeFile(metaPath(root, to), side);
        await rename(tmp, dst);
      } catch (err) {
        await unlink(tmp).catch(() => {});
        const code = (err as NodeJS.ErrnoException).code;
        if (
          (code === 'ENOENT' || code === 'ENOTDIR') &&
          !(await stat(src).catch(() => undefined))
        ) {
          throw notFound(from, err);
        }
        throw fsError(err, to);
      }
    },

    async list(prefix, opts) {
      const limit = opts.limit ?? 1000;
      const real = await ready();
      if (prefix.includes('/')) await assertInside(real, objectPath(root, prefix), prefix, false);
      const items = await walk(root, prefix, opts.cursor, limit + 1, opts.signal);
      if (items.length <= limit) return { items };
      items.length = limit;
      return { items, cursor: items[limit - 1]?.key as string };
    },

    async signedUrl(key, opts) {
      return signer.sign(key, opts.method ?? 'GET', expiresInMs(opts.expiresIn), opts.contentType);
    },

    async health() {
      const started = performance.now();
      try {
        await access(await ready(), constants.R_OK | constants.W_OK);
        return { available: true, latencyMs: performance.now() - started, backend: 'local' };
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? 'error';
        return {
          available: false,
          latencyMs: performance.now() - started,
          backend: 'local',
          error: `storage root is not readable and writable (${code})`,
        };
      }
    },

    handler(options) {
      return createSignedUrlHandler({ ...options, driver, signer });
    },
  };
  return driver;
}
