/**
 * The conformance suite of `StorageDriver`s: the tests the local and S3 drivers pass, for any
 * driver to prove itself with. It takes vitest's functions (this module imports no test runner):
 *
 * ```ts
 * import { afterAll, beforeAll, describe, expect, it } from 'vitest';
 * import { createStorage } from '@org/storage';
 * import { storageConformance } from '@org/storage/testing';
 *
 * storageConformance('my driver', async () => {
 *   const storage = createStorage({ driver: createMyDriver(), namespaces: ['uploads', 'logos'] });
 *   return { storage, close: () => storage.close() };
 * }, { describe, it, expect, beforeAll, afterAll });
 * ```
 */
import { Readable } from 'node:stream';
import { ReadableStream } from 'node:stream/web';
import { OrgError } from '@org/core';
import type { Storage } from './storage.js';
import {
  type ConformanceOptions,
  type ConformanceTestApi,
  clientGone,
  code,
  collect,
  failingBody,
  generatedBody,
  rejection,
  type StorageHarness,
  sha,
} from './testing-support.js';

export {
  type ConformanceAssertion,
  type ConformanceOptions,
  type ConformanceTestApi,
  generatedBody,
  type StorageHarness,
} from './testing-support.js';

/**
 * Declares the suite every driver must pass, as `conformance: <name>`. `setup` runs once before
 * the tests; the harness's `close()` once after them.
 */
export function storageConformance(
  name: string,
  setup: () => Promise<StorageHarness>,
  t: ConformanceTestApi,
  options: ConformanceOptions = {},
): void {
  const { describe, it, expect, beforeAll, afterAll } = t;
  const heavy = options.heavy ?? true;
  const itHeavy = (title: string, fn: () => Promise<void>) => {
    if (heavy) it(title, fn);
  };
  describe(`conformance: ${name}`, () => {
    let h: StorageHarness;
    let s: Storage;
    let ns: Storage;
    beforeAll(async () => {
      h = await setup();
      s = h.storage;
      ns = s.namespace('uploads');
    });
    afterAll(async () => h?.close());

    it('puts every body kind and reads it back byte-exact, with size and sha256', async () => {
      const bytes = Buffer.from('hello, storage\n');
      const bodies = {
        buffer: bytes,
        string: bytes.toString('utf8'),
        uint8: new Uint8Array(bytes),
        node: Readable.from([bytes.subarray(0, 5), bytes.subarray(5)]),
        web: new ReadableStream<Uint8Array>({
          start(c) {
            c.enqueue(new Uint8Array(bytes.subarray(0, 3)));
            c.enqueue(new Uint8Array(bytes.subarray(3)));
            c.close();
          },
        }),
      };
      for (const [kind, body] of Object.entries(bodies)) {
        const r = await ns.put(`kinds/${kind}.txt`, body);
        expect(r).toMatchObject({
          key: `kinds/${kind}.txt`,
          size: bytes.length,
          sha256: sha(bytes),
        });
        expect(await ns.getBuffer(`kinds/${kind}.txt`)).toEqual(bytes);
      }
    });

    it('keeps contentType, metadata, cacheControl and sha256; overwrite replaces them', async () => {
      await ns.put('meta.json', '{"a":1}', {
        contentType: 'application/json',
        metadata: { owner: 'alice', 'x-id': '42' },
        cacheControl: 'max-age=60',
      });
      const info = await ns.head('meta.json');
      expect(info).toMatchObject({
        key: 'meta.json',
        size: 7,
        contentType: 'application/json',
        metadata: { owner: 'alice', 'x-id': '42' },
        cacheControl: 'max-age=60',
        sha256: sha(Buffer.from('{"a":1}')),
      });
      expect(info.lastModified).toBeInstanceOf(Date);
      await ns.put('meta.json', 'plain');
      const again = await ns.head('meta.json');
      expect(again).toMatchObject({
        size: 5,
        contentType: 'application/octet-stream',
        metadata: {},
      });
      expect(again.cacheControl).toBeUndefined();
    });

    it('stores an empty object', async () => {
      const r = await ns.put('empty.bin', Buffer.alloc(0));
      expect(r.size).toBe(0);
      expect(r.sha256).toBe(sha(Buffer.alloc(0)));
      expect((await ns.getBuffer('empty.bin')).length).toBe(0);
      expect((await ns.head('empty.bin')).size).toBe(0);
    });

    it('reads back Unicode keys under exactly that key (NFC and NFD stay two objects)', async () => {
      const nfc = 'unicode/caf\u00e9.txt';
      const nfd = 'unicode/cafe\u0301.txt';
      const more = ['unicode/日本語 ファイル.txt', 'unicode/😀 emoji.txt', 'unicode/50%off.txt'];
      await ns.put(nfc, 'nfc');
      await ns.put(nfd, 'nfd');
      for (const k of more) await ns.put(k, k);
      expect((await ns.getBuffer(nfc)).toString()).toBe('nfc');
      expect((await ns.getBuffer(nfd)).toString()).toBe('nfd');
      for (const k of more) expect((await ns.getBuffer(k)).toString()).toBe(k);
      const keys = (await collect(ns.list('unicode/'))).map((o) => o.key);
      const want = [nfc, nfd, ...more].sort((a, b) =>
        Buffer.compare(Buffer.from(a), Buffer.from(b)),
      );
      expect(keys).toEqual(want);
    });

    it('answers ERR_STORAGE_NOT_FOUND for missing objects, exists false, delete idempotent', async () => {
      expect(await code(ns.getBuffer('missing/x'))).toBe('ERR_STORAGE_NOT_FOUND');
      expect(await code(ns.getStream('missing/x'))).toBe('ERR_STORAGE_NOT_FOUND');
      expect(await code(ns.head('missing/x'))).toBe('ERR_STORAGE_NOT_FOUND');
      expect(await code(ns.copy('missing/x', 'missing/y'))).toBe('ERR_STORAGE_NOT_FOUND');
      expect(await ns.exists('missing/x')).toBe(false);
      // Below an object, as if it were a folder: still just a missing key.
      await ns.put('plain-object', 'x');
      expect(await code(ns.getBuffer('plain-object/child'))).toBe('ERR_STORAGE_NOT_FOUND');
      expect(await code(ns.head('plain-object/child'))).toBe('ERR_STORAGE_NOT_FOUND');
      expect(await ns.exists('plain-object/child')).toBe(false);
      expect(await code(ns.copy('plain-object/child', 'y'))).toBe('ERR_STORAGE_NOT_FOUND');
      await expect(ns.delete('missing/x')).resolves.toBeUndefined();
    });

    it('refuses invalid keys on every method before touching the backend', async () => {
      const bad = '../escape';
      const calls: (() => Promise<unknown>)[] = [
        () => ns.put(bad, 'x'),
        () => ns.getBuffer(bad),
        () => ns.getStream(bad),
        () => ns.head(bad),
        () => ns.exists(bad),
        () => ns.delete(bad),
        () => ns.deleteMany(['ok', bad]),
        () => ns.copy('ok', bad),
        () => ns.signedUrl(bad),
        () => collect(ns.list('../')),
      ];
      for (const call of calls) {
        expect(await code(Promise.resolve().then(call))).toBe('ERR_STORAGE_INVALID_KEY');
      }
      expect(await code(ns.put('a', 'x', { metadata: { Bad: 'x' } }))).toBe(
        'ERR_STORAGE_INVALID_METADATA',
      );
      expect(await code(ns.put('a', 'x', { metadata: { ok: 'é' } }))).toBe(
        'ERR_STORAGE_INVALID_METADATA',
      );
    });

    it('serves byte ranges (inclusive end, clamped), refuses ranges past the end', async () => {
      await ns.put('range.txt', '0123456789');
      const read = async (start: number, end?: number) => {
        const stream = await ns.getStream('range.txt', {
          range: end === undefined ? { start } : { start, end },
        });
        const parts: Buffer[] = [];
        for await (const c of stream) parts.push(c as Buffer);
        return Buffer.concat(parts).toString();
      };
      expect(await read(2, 5)).toBe('2345');
      expect(await read(7)).toBe('789');
      expect(await read(8, 100)).toBe('89');
      expect(await read(0, 0)).toBe('0');
      expect((await ns.getBuffer('range.txt', { range: { start: 9 } })).toString()).toBe('9');
      expect(await code(read(10))).toBe('ERR_STORAGE_INVALID_RANGE');
    });

    it('deletes one and many, copies with metadata', async () => {
      await ns.put('del/a', 'a');
      await ns.put('del/b', 'b');
      await ns.put('del/c', 'c', { contentType: 'text/plain', metadata: { k: 'v' } });
      await ns.delete('del/a');
      expect(await ns.exists('del/a')).toBe(false);
      await ns.copy('del/c', 'del/copy-of-c');
      expect((await ns.getBuffer('del/copy-of-c')).toString()).toBe('c');
      expect(await ns.head('del/copy-of-c')).toMatchObject({
        contentType: 'text/plain',
        metadata: { k: 'v' },
      });
      await ns.deleteMany(['del/b', 'del/c', 'del/copy-of-c', 'del/never-existed']);
      expect(await collect(ns.list('del/'))).toEqual([]);
    });

    it('lists by prefix in UTF-8 byte order, paging transparently, scoped to the namespace', async () => {
      const keys = [
        'list/a.b',
        'list/a/b',
        'list/a/c/d',
        'list/a0',
        'list/b',
        'list/B',
        'list/é',
        'list/z',
      ];
      for (const k of keys) await ns.put(k, k);
      const sorted = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      for (const pageSize of [1, 3, 1000]) {
        const got = await collect(ns.list('list/', { pageSize }));
        expect(got.map((o) => o.key)).toEqual(sorted);
      }
      expect((await collect(ns.list('list/a'))).map((o) => o.key)).toEqual([
        'list/a.b',
        'list/a/b',
        'list/a/c/d',
        'list/a0',
      ]);
      expect((await collect(ns.list('list/a/'))).map((o) => o.key)).toEqual([
        'list/a/b',
        'list/a/c/d',
      ]);
      const first = (await collect(ns.list('list/b')))[0];
      expect(first).toMatchObject({ key: 'list/b', size: 6 });
      // From the top, the same objects carry the namespace.
      expect((await collect(s.list('uploads/list/a/'))).map((o) => o.key)).toEqual([
        'uploads/list/a/b',
        'uploads/list/a/c/d',
      ]);
      expect(await collect(ns.list('nothing-here/'))).toEqual([]);
    });

    itHeavy('lists past 1,000 keys', async () => {
      const many = s.namespace('logos');
      const n = 1005;
      const keys = Array.from({ length: n }, (_, i) => `many/${String(i).padStart(5, '0')}.png`);
      for (let i = 0; i < n; i += 50)
        await Promise.all(keys.slice(i, i + 50).map((k) => many.put(k, 'x')));
      const got = await collect(many.list('many/'));
      expect(got.length).toBe(n);
      expect(got.map((o) => o.key)).toEqual(keys);
      await many.deleteMany(keys);
      expect(await collect(many.list('many/'))).toEqual([]);
    });

    itHeavy(
      'uploads a 12 MiB stream of unknown length (multipart on S3) with its sha256',
      async () => {
        const { stream, sha256 } = generatedBody(12 * 1024 * 1024 + 123, 7);
        const r = await ns.put('big/stream.bin', stream, {
          contentType: 'application/x-test',
          cacheControl: 'private, max-age=60',
          metadata: { owner: 'c-42' },
        });
        expect(r.size).toBe(12 * 1024 * 1024 + 123);
        expect(r.sha256).toBe(sha256);
        expect(r.sha256Stored).toBeUndefined();
        const back = await ns.getBuffer('big/stream.bin');
        expect(sha(back)).toBe(sha256);
        // The same head as a single-part put: the hash next to the metadata given to put.
        const info = await ns.head('big/stream.bin');
        expect(info).toMatchObject({
          size: r.size,
          contentType: 'application/x-test',
          cacheControl: 'private, max-age=60',
          metadata: { owner: 'c-42' },
          sha256,
        });
        // On S3 the object was rewritten by the copy that stored the hash: put returns its ETag.
        expect(info.etag).toBe(r.etag);
        const tail = await ns.getBuffer('big/stream.bin', { range: { start: r.size - 10 } });
        expect(tail).toEqual(back.subarray(r.size - 10));
        await ns.delete('big/stream.bin');
      },
    );

    itHeavy(
      'puts a 9 MiB Buffer (multipart on S3, sent in slices) with its sha256 in head',
      async () => {
        const bytes = Buffer.alloc(9 * 1024 * 1024 + 5, 0x2a);
        const r = await ns.put('big/buffer.bin', bytes, { metadata: { kind: 'buffer' } });
        expect(r).toMatchObject({ size: bytes.length, sha256: sha(bytes) });
        expect(sha(await ns.getBuffer('big/buffer.bin'))).toBe(sha(bytes));
        expect(await ns.head('big/buffer.bin')).toMatchObject({
          size: bytes.length,
          contentType: 'application/octet-stream',
          metadata: { kind: 'buffer' },
          sha256: sha(bytes),
        });
        await ns.delete('big/buffer.bin');
      },
    );

    it('signs URLs that download and upload with plain fetch', async () => {
      await ns.put('signed/get.txt', 'signed body', { contentType: 'text/plain' });
      const getUrl = await ns.signedUrl('signed/get.txt', { expiresIn: '60s' });
      const res = await fetch(getUrl);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('signed body');
      const putUrl = await ns.signedUrl('signed/put.txt', { method: 'PUT', expiresIn: '1m' });
      const up = await fetch(putUrl, { method: 'PUT', body: 'uploaded' });
      expect(up.status).toBe(200);
      expect((await ns.getBuffer('signed/put.txt')).toString()).toBe('uploaded');
      const forged = getUrl.replace('signed/get.txt', 'signed/put.txt');
      if (h.checksSignatures !== false) expect((await fetch(forged)).status).toBe(403);
      expect(await code(ns.signedUrl('signed/get.txt', { expiresIn: 0 }))).toBe(
        'ERR_STORAGE_INVALID_OPTION',
      );
      // A Duration: a bare number is milliseconds, and S3 counts whole seconds from 1.
      expect(await code(ns.signedUrl('signed/get.txt', { expiresIn: 900 }))).toBe(
        'ERR_STORAGE_INVALID_OPTION',
      );
    });

    it('reports a body that fails before its end as ERR_STORAGE_BODY and stores nothing', async () => {
      await ns.put('body/kept.txt', 'before');
      const gone = clientGone();
      const bodies = {
        node: failingBody([Buffer.from('partial '), Buffer.from('upload')], gone),
        web: new ReadableStream<Uint8Array>({
          start(c) {
            c.enqueue(new Uint8Array(Buffer.from('partial')));
            c.error(gone);
          },
        }),
      };
      for (const [kind, body] of Object.entries(bodies)) {
        const err = await rejection(ns.put(`body/${kind}.txt`, body));
        expect(err).toMatchObject({ code: 'ERR_STORAGE_BODY' });
        expect((err as Error).cause).toBe(gone);
        expect(await ns.exists(`body/${kind}.txt`)).toBe(false);
        // A failed overwrite leaves the object it would have replaced as it was.
        expect(await code(ns.put('body/kept.txt', failingBody([Buffer.from('x')], gone)))).toBe(
          'ERR_STORAGE_BODY',
        );
        expect((await ns.getBuffer('body/kept.txt')).toString()).toBe('before');
      }
      // The app's own coded error (its size limit, say) comes back unchanged.
      const own = new OrgError('ERR_APP_TOO_LARGE', 'the upload is over the limit');
      expect(await rejection(ns.put('body/own.txt', failingBody([Buffer.from('x')], own)))).toBe(
        own,
      );
      expect(await ns.exists('body/own.txt')).toBe(false);
      await ns.delete('body/kept.txt');
    });

    itHeavy(
      'reports a body that fails after 12 MiB (multipart on S3) as ERR_STORAGE_BODY and stores nothing',
      async () => {
        const gone = clientGone();
        const { stream } = generatedBody(12 * 1024 * 1024, 3);
        const failing = Readable.from(
          (async function* () {
            yield* stream;
            throw gone;
          })(),
        );
        const err = await rejection(ns.put('body/big.bin', failing));
        expect(err).toMatchObject({ code: 'ERR_STORAGE_BODY' });
        expect((err as Error).cause).toBe(gone);
        expect(await ns.exists('body/big.bin')).toBe(false);
      },
    );

    it('aborts on the caller signal and reports health', async () => {
      const ctrl = new AbortController();
      ctrl.abort();
      expect(await code(ns.put('aborted.txt', 'x', { signal: ctrl.signal }))).toBe('ERR_ABORTED');
      expect(await code(ns.head('aborted.txt', { signal: ctrl.signal }))).toBe('ERR_ABORTED');
      expect(await ns.exists('aborted.txt')).toBe(false);
      const health = await s.health();
      expect(health.available).toBe(true);
      expect(health.latencyMs).toBeGreaterThanOrEqual(0);
      expect(['local', 's3', 'r2']).toContain(health.backend);
    });
  });
}
