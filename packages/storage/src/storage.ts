import type { Readable } from 'node:stream';
import { abortReason, type Duration, type Unsubscribe } from '@org/core';
import { putWithBodyErrors } from './body-errors.js';
import { bounded, DEFAULT_TIMEOUT_MS } from './call.js';
import { type Ctx, checkNamespaces, driverCtx } from './driver-context.js';
import type { LocalDriverOptions } from './drivers/local.js';
import type { S3DriverOptions } from './drivers/s3-options.js';
import { check, isStorageError, StorageError, StorageErrorCode } from './errors.js';
import { StorageEmitter, type StorageEvents, type StorageListener } from './events.js';
import { expiresInMs } from './expires.js';
import type { SignedUrlHandler, StorageHandlerOptions } from './handler.js';
import { keyProblem, validateKey, validatePrefix } from './keys.js';
import { observeOperation, recordBytes, storageSpanAttributes } from './telemetry.js';
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
  driver?: StorageDriver | undefined;
  /** S3 or R2: the driver is loaded from `@org/storage/s3` on first use. */
  s3?: S3DriverOptions | undefined;
  /** The local disk. @default { root: "./data" } */
  local?: LocalDriverOptions | undefined;
  /**
   * The app's namespaces: the names `namespace()` accepts (each one valid key segment); any
   * other name throws `ERR_STORAGE_INVALID_KEY`. @default any valid single segment
   */
  namespaces?: readonly string[] | undefined;
  /** Bound of each call (see `CallOptions.timeout`). @default '30s' */
  timeout?: Duration | undefined;
}

/** Options of `list`. */
export interface ListIterOptions extends CallOptions {
  /** Keys fetched per request (1 to 1,000). @default 1000 */
  pageSize?: number | undefined;
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
  /** A URL that allows `GET` or `PUT` of `key` for `expiresIn` (a Duration, default '15m'). */
  signedUrl(key: string, options?: SignedUrlOptions): Promise<string>;
  /** A storage scoped to `<prefix><name>/`. */
  namespace(name: string): Storage;
  /** Probes the backend (S3: `HeadBucket`; local: root writable); never throws. Timeout 5 s by default. */
  health(options?: CallOptions): Promise<StorageHealth>;
  /**
   * The node:http handler serving signed URLs (local driver, or a driver with a `handler()`).
   * Throws `ERR_STORAGE_UNSUPPORTED` at once on S3 and R2, whose URLs go to the backend itself.
   * Every answer carries `X-Content-Type-Options: nosniff`; objects of an active type (HTML,
   * SVG, XML, JavaScript…) are sent as `Content-Disposition: attachment` unless
   * `inlineActiveContent` is set.
   */
  handler(options?: StorageHandlerOptions): SignedUrlHandler;
  /** Releases the driver's sockets and handles (a driver never loaded is not loaded). Idempotent. */
  close(): Promise<void>;
  /** Listens to `operation` (every call) or `retry` (S3); returns the unsubscribe function. */
  on<E extends keyof StorageEvents>(event: E, listener: StorageListener<E>): Unsubscribe;
  /** Like `on`, for the next event only. */
  once<E extends keyof StorageEvents>(event: E, listener: StorageListener<E>): Unsubscribe;
}

/** Creates a storage over S3/R2 (`s3`), the local disk (`local`, the default) or any `driver`. */
export function createStorage(options: StorageOptions = {}): Storage {
  check.object(options, 'options');
  const events = new StorageEmitter();
  const allowed = checkNamespaces(options.namespaces);
  const timeoutMs = check.duration(options.timeout, 'timeout', DEFAULT_TIMEOUT_MS, { min: 1 });
  const ctx: Ctx = { ...driverCtx(options, events), allowed, timeoutMs, events, closed: false };
  ctx.spanAttributes = storageSpanAttributes(
    ctx.backend,
    options.s3?.bucket ?? (options.driver as { bucket?: unknown } | undefined)?.bucket,
  );
  return scoped(ctx, '');
}

function isStream(body: Body): boolean {
  return !(typeof body === 'string' || body instanceof Uint8Array);
}

/** A call's own `timeout` in milliseconds, when it gives one. */
function callTimeout(opts: CallOptions | undefined): number | undefined {
  return check.duration(opts?.timeout, 'timeout', undefined, { min: 1 });
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
    observeOperation(ctx.spanAttributes ?? {}, what, () =>
      ctx.events.track(what, key, () =>
        bounded(what, callTimeout(opts) ?? ctx.timeoutMs, opts?.signal, async (signal) =>
          fn(await ctx.getDriver(), signal),
        ),
      ),
    );
  const strip = (info: ObjectInfo): ObjectInfo => ({ ...info, key: info.key.slice(prefix.length) });

  const storage: Storage = {
    backend: ctx.backend,
    prefix,
    async put(key, body, opts = {}) {
      const k = full(key);
      // A stream takes as long as it takes; only an explicit timeout bounds it.
      const t = isStream(body) ? callTimeout(opts) : (callTimeout(opts) ?? ctx.timeoutMs);
      return observeOperation(ctx.spanAttributes ?? {}, 'put', () =>
        ctx.events.track('put', k, () =>
          bounded('put', t, opts.signal, async (signal) => {
            const r = await putWithBodyErrors(await ctx.getDriver(), k, body, { ...opts, signal });
            recordBytes(ctx.backend, 'put', r.size);
            return { ...r, key };
          }),
        ),
      );
    },
    async getBuffer(key, opts = {}) {
      const stream = await storage.getStream(key, opts);
      const chunks: Buffer[] = [];
      try {
        for await (const c of stream) chunks.push(c as Buffer);
      } catch (err) {
        // Whatever a driver's stream fails with once the caller has aborted, the call was aborted.
        if (opts.signal?.aborted) throw abortReason(opts.signal, 'storage getBuffer');
        throw err;
      }
      const buffer = Buffer.concat(chunks);
      recordBytes(ctx.backend, 'get', buffer.length);
      return buffer;
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
            if (isStorageError(err, StorageErrorCode.NotFound)) return false;
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
      const limit = check.integer(opts.pageSize, 'pageSize', 1000, { min: 1, max: 1000 });
      let cursor: string | undefined;
      do {
        const page = await call('list', opts, (d, signal) =>
          d.list(fullPrefix, {
            signal,
            limit,
            ...(cursor ? { cursor } : {}),
          }),
        );
        for (const item of page.items) yield strip(item);
        cursor = page.cursor;
      } while (cursor !== undefined);
    },
    async signedUrl(key, opts = {}) {
      const k = full(key);
      const expiresIn = expiresInMs(opts.expiresIn);
      return call('signedUrl', opts, (d, signal) => d.signedUrl(k, { ...opts, expiresIn, signal }));
    },
    namespace(name) {
      const problem = keyProblem(name);
      if (problem !== undefined || name.includes('/')) {
        throw new StorageError(
          StorageErrorCode.InvalidKey,
          `Invalid namespace ${JSON.stringify(name)}: ${problem ?? 'it must be one segment, without "/"'}`,
        );
      }
      if (prefix === '' && ctx.allowed !== undefined && !ctx.allowed.includes(name)) {
        throw new StorageError(
          StorageErrorCode.InvalidKey,
          `Unknown namespace "${name}": use one of ${ctx.allowed.join(', ')} or add it to \`namespaces\``,
        );
      }
      return scoped(ctx, `${prefix}${name}/`);
    },
    async health(opts) {
      const started = performance.now();
      try {
        // A probe must answer quickly: 5 s unless the caller says otherwise.
        const probe = { ...opts, timeout: callTimeout(opts) ?? Math.min(ctx.timeoutMs, 5_000) };
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
    handler(options) {
      const make = ctx.handler;
      if (make === undefined) {
        throw new StorageError(
          StorageErrorCode.Unsupported,
          `The ${ctx.backend} driver's signed URLs go to the backend itself; no handler is needed`,
        );
      }
      return make(options);
    },
    async close() {
      if (ctx.closed) return;
      ctx.closed = true;
      const loaded = ctx.loaded();
      const d = loaded && (await loaded.catch(() => undefined));
      await d?.close?.();
    },
    on: (event, listener) => ctx.events.on(event, listener),
    once: (event, listener) => ctx.events.once(event, listener),
  };
  return storage;
}
