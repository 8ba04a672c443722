import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAbortedError, isOrgError, isTimeoutError } from '@org/core';
import {
  createLocalDriver,
  createStorage,
  isStorageError,
  type StorageDriver,
  StorageError,
  StorageErrorCode,
} from '@org/storage';
import { createS3Driver } from '@org/storage/s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** What `fn` throws (synchronously or by rejecting). */
async function thrown(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('the @org/core contract', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'org-storage-contract-'));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('StorageError is an OrgError with a PascalCase-keyed code object and keeps the key', () => {
    const err = new StorageError(StorageErrorCode.NotFound, 'x', { key: 'a/b' });
    expect(isOrgError(err)).toBe(true);
    expect(isStorageError(err, 'ERR_STORAGE_NOT_FOUND')).toBe(true);
    expect(err).toMatchObject({ name: 'StorageError', code: 'ERR_STORAGE_NOT_FOUND', key: 'a/b' });
    for (const [k, v] of Object.entries(StorageErrorCode)) {
      expect(k).toMatch(/^[A-Z][A-Za-z]+$/);
      expect(v).toMatch(/^ERR_STORAGE_[A-Z_]+$/);
    }
    expect(StorageErrorCode.InvalidOption).toBe('ERR_STORAGE_INVALID_OPTION');
  });

  it('takes durations as Durations and refuses malformed ones with ERR_STORAGE_INVALID_OPTION', async () => {
    const s = createStorage({ local: { root }, timeout: '30s' });
    await s.put('d.txt', 'x', { timeout: '2s' });
    for (const fn of [
      () => createStorage({ local: { root }, timeout: '15' as never }),
      () => createStorage({ local: { root }, timeout: -1 }),
      () => createS3Driver({ bucket: 'b', idleTimeout: 'soon' as never }),
      () => createS3Driver({ bucket: 'b', retry: { maxDelay: Number.NaN } }),
      () => s.head('d.txt', { timeout: 0 }),
      () => s.signedUrl('d.txt', { expiresIn: '8d' }),
    ]) {
      const err = await thrown(fn);
      expect(isStorageError(err, 'ERR_STORAGE_INVALID_OPTION'), String(err)).toBe(true);
    }
  });

  it('refuses bad options with ERR_STORAGE_INVALID_OPTION naming them, never a TypeError', async () => {
    const cases: [() => unknown, RegExp][] = [
      [() => createStorage({ namespaces: ['a/b'] }), /namespaces/],
      [() => createStorage({ s3: { bucket: '' } }), /bucket/],
      [() => createS3Driver({ bucket: 'b', endpoint: 'not a url' }), /endpoint/],
      [() => createLocalDriver({ root, signing: { baseUrl: 'nope' } }), /baseUrl/],
      [() => createS3Driver({ bucket: 'b', copyLimit: 1.5 }), /copyLimit/],
      [() => createS3Driver({ bucket: 'b', retry: { attempts: 0 } }), /retry\.attempts/],
    ];
    for (const [fn, name] of cases) {
      const err = await thrown(fn);
      expect(isStorageError(err, 'ERR_STORAGE_INVALID_OPTION'), String(err)).toBe(true);
      expect((err as Error).message).toMatch(name);
    }
  });

  it('rejects aborted calls with AbortedError and calls past their timeout with TimeoutError', async () => {
    // A driver whose head never answers and ignores its signal.
    const hanging: StorageDriver = {
      ...createLocalDriver({ root }),
      head: () => new Promise(() => {}),
    };
    const s = createStorage({ driver: hanging });
    const late = await thrown(() => s.head('x', { timeout: 50 }));
    expect(isTimeoutError(late)).toBe(true);
    expect(late).toMatchObject({ code: 'ERR_TIMEOUT', timeoutMs: 50 });
    const ctrl = new AbortController();
    const pending = thrown(() => s.head('x', { signal: ctrl.signal }));
    const reason = new Error('user left');
    ctrl.abort(reason);
    const aborted = await pending;
    expect(isAbortedError(aborted)).toBe(true);
    expect((aborted as Error).cause).toBe(reason);
  });

  it('handler() on S3 throws ERR_STORAGE_UNSUPPORTED at once; close() is idempotent', async () => {
    const s3 = createStorage({ s3: { bucket: 'b', region: 'eu-west-1' } });
    expect(isStorageError(await thrown(() => s3.handler()), 'ERR_STORAGE_UNSUPPORTED')).toBe(true);
    await s3.close();
    await s3.close();
    const local = createStorage({ local: { root } });
    await local.put('c.txt', 'c');
    await local.close();
    await local.close();
  });

  it('once() hears one event; on() returns the unsubscribe function', async () => {
    const s = createStorage({ local: { root } });
    const ops: string[] = [];
    s.once('operation', ({ op }) => ops.push(`once:${op}`));
    const off = s.on('operation', ({ op }) => ops.push(op));
    await s.put('e.txt', 'x');
    off();
    await s.head('e.txt');
    expect(ops).toEqual(['once:put', 'put']);
  });
});

describe('a download aborted while it streams', () => {
  it('fails with AbortedError, on the stream and from getBuffer', async () => {
    const root = await mkdtemp(join(tmpdir(), 'org-storage-abort-'));
    try {
      const s = createStorage({ local: { root } });
      await s.put('big.bin', Buffer.alloc(4 * 1024 * 1024, 1));
      const ctrl = new AbortController();
      const stream = await s.getStream('big.bin', { signal: ctrl.signal });
      const err = await (async () => {
        for await (const _ of stream) ctrl.abort();
      })().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isAbortedError(err), String(err)).toBe(true);
      const again = new AbortController();
      const buffered = s.getBuffer('big.bin', { signal: again.signal });
      setImmediate(() => again.abort());
      const err2 = await buffered.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isAbortedError(err2), String(err2)).toBe(true);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
