import { createHash, type Hash } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { ReadableStream } from 'node:stream/web';
import { invalidOption, StorageError, StorageErrorCode } from './errors.js';
import type { Body } from './types.js';

/** Bytes of a Buffer/Uint8Array/string body, or `undefined` for a stream. */
export function bodyBytes(body: Body): Buffer | undefined {
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (Buffer.isBuffer(body)) return body;
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  return undefined;
}

/** A Node Readable over any streaming body. */
export function bodyStream(body: Body): Readable {
  const bytes = bodyBytes(body);
  if (bytes !== undefined) return Readable.from([bytes]);
  if (body instanceof ReadableStream) return Readable.fromWeb(body);
  if (body instanceof Readable) return body;
  // A Web stream from another realm (e.g. undici's global ReadableStream).
  if (typeof (body as { getReader?: unknown }).getReader === 'function') {
    return Readable.fromWeb(body as unknown as ReadableStream<Uint8Array>);
  }
  throw invalidOption(
    'put(): body must be a Buffer, Uint8Array, string, Node Readable or Web ReadableStream',
  );
}

/** A pass-through that hashes (SHA-256) and counts what flows through it. */
export class HashingStream extends Transform {
  readonly #hash: Hash = createHash('sha256');
  bytes = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.#hash.update(buf);
    this.bytes += buf.length;
    done(null, buf);
  }

  /** Hex digest; call once, after the stream ended. */
  digest(): string {
    return this.#hash.digest('hex');
  }
}

/** Hex SHA-256 of bytes. */
export function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const META_KEY = /^[a-z0-9][a-z0-9_-]*$/;
const META_VALUE = /^[\u0020-\u007e]*$/;

/**
 * Checks user metadata against S3's rules, on every driver: lowercase keys of `a-z 0-9 - _`,
 * printable ASCII values, 2 KiB in all. Keys starting with `org-` are reserved.
 */
export function validateMetadata(
  metadata: Record<string, string> | undefined,
): Record<string, string> {
  if (metadata === undefined) return {};
  let total = 0;
  for (const [k, v] of Object.entries(metadata)) {
    if (!META_KEY.test(k) || k.startsWith('org-')) {
      throw new StorageError(
        StorageErrorCode.InvalidMetadata,
        `Metadata key ${JSON.stringify(k)} is not allowed: use lowercase a-z, 0-9, "-" and "_" (S3 lowercases keys; "org-" is reserved)`,
      );
    }
    if (typeof v !== 'string' || !META_VALUE.test(v)) {
      throw new StorageError(
        StorageErrorCode.InvalidMetadata,
        `Metadata value of ${JSON.stringify(k)} must be printable ASCII (encode other text, e.g. with encodeURIComponent)`,
      );
    }
    total += k.length + v.length;
  }
  if (total > 2048) {
    throw new StorageError(
      StorageErrorCode.InvalidMetadata,
      `Metadata is ${total} bytes; S3 keeps at most 2048: store large data as an object`,
    );
  }
  return { ...metadata };
}
