import type { Readable } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import type { Duration } from '@org/core';

/** What `put` accepts: bytes, text (stored as UTF-8), a Node stream or a Web stream. */
export type Body = Buffer | Uint8Array | string | Readable | ReadableStream<Uint8Array>;

/** An inclusive byte range, as in HTTP `Range: bytes=start-end`. */
export interface ByteRange {
  /** First byte, from 0. */
  start: number;
  /** Last byte, inclusive. @default the object's last byte */
  end?: number | undefined;
}

/** Options every call takes. */
export interface CallOptions {
  /** Aborts the call; it rejects with core's `AbortedError` (`ERR_ABORTED`). */
  signal?: AbortSignal | undefined;
  /**
   * Upper bound for the call (a Duration: milliseconds as a number, or `'10s'`…); past it the
   * call rejects with core's `TimeoutError` (`ERR_TIMEOUT`). For `getStream` it bounds the call
   * up to the first byte, not the whole transfer (stalled transfers are cut by the driver's idle
   * timeout); a `put` of a stream is bounded only by an explicit `timeout`.
   * @default the storage's `timeout` ('30s')
   */
  timeout?: Duration | undefined;
}

/** Options of `put`. */
export interface PutOptions extends CallOptions {
  /** MIME type stored with the object. @default "application/octet-stream" */
  contentType?: string | undefined;
  /**
   * User metadata: lowercase keys of `a-z 0-9 - _`, values of printable ASCII, 2 KiB in all
   * (S3's rules, applied on every driver). @default {}
   */
  metadata?: Record<string, string> | undefined;
  /** `Cache-Control` stored with the object and sent by signed URLs. @default none */
  cacheControl?: string | undefined;
}

/** What `put` returns. */
export interface PutResult {
  key: string;
  /** Bytes stored. */
  size: number;
  /** Hex SHA-256 of the bytes, computed while they streamed. */
  sha256: string;
  /** The backend's entity tag, where it has one (S3). */
  etag?: string;
  /**
   * `false` when the object is stored but its SHA-256 is not in its metadata, so `head()` will
   * not return it: on S3, a multipart object larger than `copyLimit`, uploaded with
   * `storeMultipartSha256: false`, or whose metadata copy failed after its retries. Absent when
   * the hash is stored.
   */
  sha256Stored?: false;
}

/** What `head` and `list` tell about an object. */
export interface ObjectInfo {
  key: string;
  /** Bytes. */
  size: number;
  lastModified: Date;
  etag?: string;
  /** `head` only (S3 lists do not carry it). */
  contentType?: string;
  /** `head` only. */
  metadata?: Record<string, string>;
  /** `head` only. */
  cacheControl?: string;
  /** `head` only; absent for objects whose `put` returned `sha256Stored: false`. */
  sha256?: string;
}

/** Options of `getStream`. */
export interface GetOptions extends CallOptions {
  /** Read only these bytes. @default the whole object */
  range?: ByteRange | undefined;
}

/** One page of a listing. */
export interface ListPage {
  items: ObjectInfo[];
  /** Pass it back to get the next page; absent on the last page. */
  cursor?: string;
}

/** Options of a driver's `list`. */
export interface ListOptions extends CallOptions {
  /** Where the previous page stopped. */
  cursor?: string | undefined;
  /** Page size. @default 1000 */
  limit?: number | undefined;
}

/** HTTP method a signed URL allows. */
export type SignedMethod = 'GET' | 'PUT';

/** Options of `signedUrl`. */
export interface SignedUrlOptions extends CallOptions {
  /**
   * Lifetime of the URL: a Duration (milliseconds as a number, or `'15m'`, `'1h'`…) from 1 s to
   * 7 days (S3's limit), counted in whole seconds. @default '15m'
   */
  expiresIn?: Duration | undefined;
  /** What the URL allows: download (`GET`) or upload (`PUT`). @default "GET" */
  method?: SignedMethod | undefined;
  /** For `PUT`: the `Content-Type` the uploader must send. @default none */
  contentType?: string | undefined;
}

/** What `health()` reports, in the shape `@org/health` reads. */
export interface StorageHealth {
  available: boolean;
  /** Round trip of the probe, in milliseconds. */
  latencyMs: number;
  /** `local`, `s3` or `r2`. */
  backend: string;
  /** Why it is not available (no secrets in it). */
  error?: string;
}

/**
 * A storage backend: the extension point of `@org/storage`. Keys reaching a driver are already
 * validated. Drivers throw `StorageError`s (`ERR_STORAGE_NOT_FOUND` for missing objects) or
 * core's `AbortedError`/`TimeoutError`. `@org/storage/testing` is the suite a driver must pass.
 */
export interface StorageDriver {
  /** `local`, `s3` or `r2`. */
  readonly name: string;
  put(key: string, body: Body, options: PutOptions): Promise<PutResult>;
  getStream(key: string, options: GetOptions): Promise<Readable>;
  head(key: string, options: CallOptions): Promise<ObjectInfo>;
  /** Deleting a missing object succeeds, as on S3. */
  delete(key: string, options: CallOptions): Promise<void>;
  list(prefix: string, options: ListOptions): Promise<ListPage>;
  signedUrl(key: string, options: SignedUrlOptions): Promise<string>;
  health(options: CallOptions): Promise<StorageHealth>;
  /** Optional: a cheaper existence check than `head`. */
  exists?(key: string, options: CallOptions): Promise<boolean>;
  /** Optional: a batch delete; otherwise `delete` runs per key. */
  deleteMany?(keys: string[], options: CallOptions): Promise<void>;
  /** Optional: a server-side copy; otherwise the bytes go through the process. */
  copy?(from: string, to: string, options: CallOptions): Promise<void>;
  /** Optional: releases sockets and handles. */
  close?(): Promise<void>;
}
