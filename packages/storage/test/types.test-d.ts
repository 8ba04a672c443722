import type { Readable } from 'node:stream';
import {
  createStorage,
  type ObjectInfo,
  type PutResult,
  type StorageDriver,
  type StorageError,
  type StorageErrorCode,
  type StorageHealth,
} from '@org/storage';
import { createS3Driver, type S3Driver } from '@org/storage/s3';
import { describe, expectTypeOf, it } from 'vitest';

describe('public types', () => {
  const storage = createStorage();

  it('returns the documented shapes', () => {
    expectTypeOf(storage.put('k', 'v')).resolves.toEqualTypeOf<PutResult>();
    expectTypeOf(storage.getBuffer('k')).resolves.toEqualTypeOf<Buffer>();
    expectTypeOf(storage.getStream('k')).resolves.toEqualTypeOf<Readable>();
    expectTypeOf(storage.head('k')).resolves.toEqualTypeOf<ObjectInfo>();
    expectTypeOf(storage.health()).resolves.toEqualTypeOf<StorageHealth>();
    expectTypeOf(storage.list()).toMatchTypeOf<AsyncIterable<ObjectInfo>>();
    expectTypeOf(storage.namespace('pdfs')).toEqualTypeOf(storage);
  });

  it('types event payloads by event name', () => {
    storage.on('operation', (e) => {
      expectTypeOf(e.op).toEqualTypeOf<string>();
      expectTypeOf(e.code).toEqualTypeOf<string | undefined>();
    });
    storage.on('retry', (e) => {
      expectTypeOf(e.attempt).toEqualTypeOf<number>();
      expectTypeOf(e.delayMs).toEqualTypeOf<number>();
    });
    // @ts-expect-error: no such event
    storage.on('nope', () => {});
    expectTypeOf(storage.on('retry', () => {})).toEqualTypeOf<() => void>();
  });

  it('accepts only the documented bodies and methods', () => {
    // @ts-expect-error: numbers are not bodies
    void storage.put('k', 42);
    // @ts-expect-error: only GET and PUT are signed
    void storage.signedUrl('k', { method: 'DELETE' });
  });

  it('S3 driver is a StorageDriver; codes are a closed union', () => {
    expectTypeOf(createS3Driver).returns.toEqualTypeOf<S3Driver>();
    expectTypeOf<S3Driver>().toMatchTypeOf<StorageDriver>();
    expectTypeOf<StorageError['code']>().toEqualTypeOf<StorageErrorCode>();
    expectTypeOf<'ERR_STORAGE_NOT_FOUND'>().toMatchTypeOf<StorageErrorCode>();
  });
});
