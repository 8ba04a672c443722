import type { Readable } from 'node:stream';
import { bounded, DEFAULT_TIMEOUT } from './call.js';
import { createLocalDriver, type LocalDriverOptions } from './drivers/local.js';
import type { S3DriverOptions } from './drivers/s3-options.js';
import { StorageError, StorageErrorCode } from './errors.js';
import { createEmitter, type Emitter, type StorageEvents, type StorageListener } from './events.js';
import type { SignedUrlHandler } from './handler.js';
import { keyProblem, validateKey, validatePrefix } from './keys.js';
import type {
  Body,
  CallOptions,
  GetOptions,
  ObjectInfo,
  PutOptions,
  PutResult,
  SignedUrlOptions,
  StorageDriver,
  StorageHealth,
} from './types.js';

/** Options of `createStorage`. Give one of `driver`, `s3` or `local`; none means local. */
export interface StorageOptions {
  /** A driver you built (`createS3Driver`, `createLocalDriver`, your own). */
  driver?: StorageDriver;
  /** S3 or R2: the driver is loaded from `@org/storage/s3` on first use. */
  s3?: S3DriverOptions;
  /** The local disk. @default { root: "./data" } */
  local?: LocalDriverOptions;
  /** Names `namespace()` accepts; any other name throws. @default any valid single segment */
  namespaces?: readonly string[];
  /** Bound of each call, in milliseconds (see `CallOptions.timeout`). @default 30000 */
  timeout?: number;
}

/** Options of `list`. */
export interface ListIterOptions extends CallOptions {
  /** Keys fetched per request. @default 1000 */
  pageSize?: number;
}

/** The storage API: the same on every driver. Keys follow `validateKey`'s rules. */
export interface Storage {
  /** `local`, `s3` or `r2`. */
  readonly backend: string;
  /** The prefix this storage is scoped to (`""` at the top, `"pdfs/"` for a namespace). */
  readonly prefix: string;
  put(key: string, body: Body, options?: PutOptions): Promise<PutResult>;
  getBuffer(key: string, options?: GetOptions): Promise<Buffer>;
  getStream(key: string, options?: GetOptions): Promise<Readable>;
  head(key: string, options?: CallOptions): Promise<ObjectInfo>;
  exists(key: string, options?: CallOptions): Promise<boolean>;
  /** Deleting a missing object succeeds. */
  delete(key: string, options?: CallOptions): Promise<void>;
  deleteMany(keys: readonly string[], options?: CallOptions): Promise<void>;
  copy(from: string, to: string, options?: CallOptions): Promise<void>;
  /** Every object under `prefix`, in UTF-8 byte order of keys, paging transparently. */
  list(prefix?: string, options?: ListIterOptions): AsyncIterableIterator<ObjectInfo>;
  /** A URL that allows one `GET` or `PUT` of `key` until `expiresIn` seconds have passed. */
  signedUrl(key: string, options?: SignedUrlOptions): Promise<string>;
  /** A storage scoped to `<prefix><name>/`. */
  namespace(name: string): Storage;
  /** Probes the backend (S3: `HeadBucket`; local: root writable); never throws. Timeout 5 s by default. */
  health(options?: CallOptions): Promise<StorageHealth>;
  /** The node:http handler serving signed URLs (local driver); throws `ERR_STORAGE_UNSUPPORTED` on S3. */
  handler(): SignedUrlHandler;
  /** Releases the driver's sockets and handles. */
  close(): Promise<void>;
  /** Listens to `operation` (every call) or `retry` (S3); returns the unsubscribe function. */
  on<E extends keyof StorageEvents>(event: E, listener: StorageListener<E>): () => void;
}

const MAX_EXPIRES_IN = 7 * 24 * 3600;

function loadS3(options: S3DriverOptions): () => Promise<StorageDriver> {
  let driver: Promise<StorageDriver> | undefined;
  return () => {
    driver ??= import('@org/storage/s3').then(
      (m) => m.createS3Driver(options),
      (err: unknown) => {
        driver = undefined;
        throw new StorageError(
          StorageErrorCode.INVALID_OPTIONS,
          'S3 storage needs @aws-sdk/client-s3 and @aws-sdk/s3-request-presigner: install them',
          { cause: err },
        );
      },
    );
    return driver;
  };
}

/** Creates a storage over S3/R2 (`s3`), the local disk (`local`, the default) or any `driver`. */
export function createStorage(options: StorageOptions = {}): Storage {
  const events = createEmitter();
  let getDriver: () => Promise<StorageDriver>;
  let backend: string;
  if (options.driver !== undefined) {
    const d = options.driver;
    getDriver = async () => d;
    backend = d.name;
  } else if (options.s3 !== undefined) {
    const userOnRetry = options.s3.retry?.onRetry;
    getDriver = loadS3({
      ...options.s3,
      retry: {
        ...options.s3.retry,
        onRetry: (info) => {
          events.emit('retry', info);
          userOnRetry?.(info);
        },
      },
    });
    backend = options.s3.profile === 'r2' ? 'r2' : 's3';
  } else {
    const d = createLocalDriver(options.local);
    getDriver = async () => d;
    backend = 'local';
  }
  const allowed = options.namespaces;
  const timeout = options.timeout ?? DEFAULT_TIMEOUT;
  return scoped({ getDriver, backend, allowed, timeout, events }, '');
}

interface Ctx {
  getDriver: () => Promise<StorageDriver>;
  backend: string;
  allowed: readonly string[] | undefined;
  timeout: number;
  events: Emitter;
}

function isStream(body: Body): boolean {
  return !(typeof body === 'string' || body instanceof Uint8Array);
}

function scoped(ctx: Ctx, prefix: string): Storage {
  const full = (key: string) => {
    validateKey(key);
    return prefix === '' ? key : validateKey(prefix + key);
  };
  const call = <T>(
    what: string,
    opts: CallOptions | undefined,
    fn: (d: StorageDriver, signal: AbortSignal) => Promise<T>,
    key?: string,
  ) =>
    ctx.events.track(what, key, () =>
      bounded(what, opts?.timeout ?? ctx.timeout, opts?.signal, async (signal) =>
        fn(await ctx.getDriver(), signal),
      ),
    );
  const strip = (info: ObjectInfo): ObjectInfo => ({ ...info, key: info.key.slice(prefix.length) });

  const storage: Storage = {
    backend: ctx.backend,
    prefix,
    async put(key, body, opts = {}) {
      const k = full(key);
      // A stream takes as long as it takes; only an explicit timeout bounds it.
      const t = isStream(body) ? opts.timeout : (opts.timeout ?? ctx.timeout);
      return ctx.events.track('put', k, () =>
        bounded('put', t, opts.signal, async (signal) => {
          const r = await (await ctx.getDriver()).put(k, body, { ...opts, signal });
          return { ...r, key };
        }),
      );
    },
    async getBuffer(key, opts = {}) {
      const stream = await storage.getStream(key, opts);
      const chunks: Buffer[] = [];
      for await (const c of stream) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    },
    async getStream(key, opts = {}) {
      const k = full(key);
      return call('getStream', opts, (d, signal) => d.getStream(k, { ...opts, signal }), k);
    },
    async head(key, opts) {
      const k = full(key);
      return strip(await call('head', opts, (d, signal) => d.head(k, { signal }), k));
    },
    async exists(key, opts) {
      const k = full(key);
      return call('exists', opts, async (d, signal) => {
        if (d.exists) return d.exists(k, { signal });
        return d.head(k, { signal }).then(
          () => true,
          (err: unknown) => {
            if (err instanceof StorageError && err.code === StorageErrorCode.NOT_FOUND)
              return false;
            throw err;
          },
        );
      });
    },
    async delete(key, opts) {
      const k = full(key);
      return call('delete', opts, (d, signal) => d.delete(k, { signal }), k);
    },
    async deleteMany(keys, opts) {
      const ks = keys.map(full);
      return call('deleteMany', opts, async (d, signal) => {
        if (d.deleteMany) return d.deleteMany(ks, { signal });
        for (const k of ks) await d.delete(k, { signal });
      });
    },
    async copy(from, to, opts) {
      const f = full(from);
      const t = full(to);
      return call('copy', opts, async (d, signal) => {
        if (d.copy) return d.copy(f, t, { signal });
        const info = await d.head(f, { signal });
        const body = await d.getStream(f, { signal });
        const put: PutOptions = { signal, metadata: info.metadata ?? {} };
        if (info.contentType !== undefined) put.contentType = info.contentType;
        if (info.cacheControl !== undefined) put.cacheControl = info.cacheControl;
        await d.put(t, body, put);
      });
    },
    async *list(p = '', opts = {}) {
      const fullPrefix = prefix + validatePrefix(p);
      let cursor: string | undefined;
      do {
        const page = await call('list', opts, (d, signal) =>
          d.list(fullPrefix, {
            signal,
            limit: opts.pageSize ?? 1000,
            ...(cursor ? { cursor } : {}),
          }),
        );
        for (const item of page.items) yield strip(item);
        cursor = page.cursor;
      } while (cursor !== undefined);
    },
    async signedUrl(key, opts = {}) {
      const k = full(key);
      const expiresIn = opts.expiresIn ?? 900;
      if (!(expiresIn > 0 && expiresIn <= MAX_EXPIRES_IN)) {
        throw new StorageError(
          StorageErrorCode.INVALID_OPTIONS,
          `expiresIn is in seconds and must be in 1..${MAX_EXPIRES_IN} (7 days, S3's limit); got ${expiresIn}`,
        );
      }
      return call('signedUrl', opts, (d, signal) => d.signedUrl(k, { ...opts, expiresIn, signal }));
    },
    namespace(name) {
      const problem = keyProblem(name);
      if (problem !== undefined || name.includes('/')) {
        throw new StorageError(
          StorageErrorCode.INVALID_KEY,
          `Invalid namespace ${JSON.stringify(name)}: ${problem ?? 'it must be one segment, without "/"'}`,
        );
      }
      if (prefix === '' && ctx.allowed !== undefined && !ctx.allowed.includes(name)) {
        throw new StorageError(
          StorageErrorCode.INVALID_KEY,
          `Unknown namespace "${name}": use one of ${ctx.allowed.join(', ')} or add it to \`namespaces\``,
        );
      }
      return scoped(ctx, `${prefix}${name}/`);
    },
    async health(opts) {
      const started = performance.now();
      try {
        // A probe must answer quickly: 5 s unless the caller says otherwise.
        const probe = { ...opts, timeout: opts?.timeout ?? Math.min(ctx.timeout, 5_000) };
        return await call('health', probe, (d, signal) => d.health({ signal }));
      } catch (err) {
        return {
          available: false,
          latencyMs: performance.now() - started,
          backend: ctx.backend,
          error: (err as Error).message,
        };
      }
    },
    handler() {
      let handler: SignedUrlHandler | undefined;
      return async (req, res, next) => {
        const d = (await ctx.getDriver()) as StorageDriver & { handler?: () => SignedUrlHandler };
        if (typeof d.handler !== 'function') {
          throw new StorageError(
            StorageErrorCode.UNSUPPORTED,
            `The ${d.name} driver's signed URLs go to the backend itself; no handler is needed`,
          );
        }
        handler ??= d.handler();
        return handler(req, res, next);
      };
    },
    async close() {
      const d = await ctx.getDriver();
      await d.close?.();
    },
    on: (event, listener) => ctx.events.on(event, listener),
  };
  return storage;
}
