import { createHash, createHmac } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { Readable } from 'node:stream';
import { ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import { createStorage, isStorageError, RETRY_CHANNEL, type Storage } from '@org/storage';
import { generatedBody as generated } from '@org/storage/testing';
import { freePort, waitFor } from '@org/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultProxy, startFaultProxy } from './fault-proxy.js';
import { code } from './harness.js';
import { credentials, motoAvailable, motoConnection, startMoto } from './moto.js';

describe.runIf(motoAvailable)('S3 driver under faults', () => {
  let moto: Awaited<ReturnType<typeof startMoto>>;
  let proxy: FaultProxy;
  let bucket: string;
  let storage: Storage;
  const retries: number[] = [];

  beforeAll(async () => {
    moto = await startMoto();
    bucket = await moto.bucket('faults');
    proxy = await startFaultProxy(moto.endpoint);
    storage = createStorage({
      s3: {
        bucket,
        ...motoConnection(proxy.endpoint),
        storeMultipartSha256: true,
        retry: {
          attempts: 4,
          minDelay: 10,
          maxDelay: 50,
          onRetry: ({ attempt }) => retries.push(attempt),
        },
      },
      timeout: 10_000,
    });
  });
  afterAll(async () => {
    await storage?.close();
    await proxy?.close();
    await moto?.stop();
  });

  it('retries 500 and 503 with backoff, then succeeds', async () => {
    const events: number[] = [];
    const delays: number[] = [];
    const off = storage.on('retry', ({ attempt, delayMs }) => {
      events.push(attempt);
      delays.push(delayMs);
    });
    const published: unknown[] = [];
    const onChannel = (m: unknown) => published.push(m);
    subscribe(RETRY_CHANNEL, onChannel);
    for (const status of [500, 503] as const) {
      retries.length = 0;
      const failedBefore = proxy.failed;
      let left = 3; // three failures, then the server recovers
      proxy.rule = () => (left-- > 0 ? status : 'forward');
      await storage.put(`retry-${status}.txt`, 'survived');
      expect(proxy.failed - failedBefore).toBe(3);
      expect(retries).toEqual([1, 2, 3]);
      left = 2;
      expect((await storage.getBuffer(`retry-${status}.txt`)).toString()).toBe('survived');
      left = 2;
      expect((await storage.head(`retry-${status}.txt`)).size).toBe(8);
      left = 2;
      const listed: string[] = [];
      for await (const o of storage.list('retry-')) listed.push(o.key);
      expect(listed).toContain(`retry-${status}.txt`);
    }
    proxy.rule = () => 'forward';
    off();
    unsubscribe(RETRY_CHANNEL, onChannel);
    expect(events.length).toBe(2 * (3 + 2 + 2 + 2));
    // Full jitter under maxDelay (50 ms), in milliseconds.
    for (const d of delays) expect(d >= 0 && d <= 50).toBe(true);
    expect(published).toHaveLength(events.length);
    expect(published[0]).toMatchObject({ attempt: 1, delayMs: delays[0] });
  });

  it('gives up after its attempts with ERR_STORAGE_UNAVAILABLE when 503 persists', async () => {
    proxy.rule = () => 503;
    const started = Date.now();
    const err = await storage.head('x').catch((e: unknown) => e);
    proxy.rule = () => 'forward';
    expect(isStorageError(err, 'ERR_STORAGE_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toMatch(
      /kept failing at http:\/\/127\.0\.0\.1:\d+\/faults-.* \(503 /,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('does not retry a 4xx', async () => {
    const seen = proxy.seen;
    expect(await code(storage.head('missing'))).toBe('ERR_STORAGE_NOT_FOUND');
    expect(proxy.seen - seen).toBe(1);
  });

  it('a single-part put signs the SHA-256 it computed instead of hashing the body twice', async () => {
    // The client's own SHA-256, counting the bytes the SDK hashes (payload and signing key).
    let hashed = 0;
    const bytesOf = (d: string | ArrayBuffer | ArrayBufferView) =>
      typeof d === 'string'
        ? Buffer.from(d)
        : ArrayBuffer.isView(d)
          ? Buffer.from(d.buffer, d.byteOffset, d.byteLength)
          : Buffer.from(d);
    class CountingSha256 {
      private readonly h;
      constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
        this.h = secret ? createHmac('sha256', bytesOf(secret)) : createHash('sha256');
      }
      update(data: string | ArrayBuffer | ArrayBufferView) {
        const b = bytesOf(data);
        hashed += b.length;
        this.h.update(b);
      }
      async digest() {
        return new Uint8Array(this.h.digest());
      }
    }
    const client = new S3Client({ ...motoConnection(proxy.endpoint), sha256: CountingSha256 });
    const counted = createStorage({ s3: { bucket, client } });
    const seen: { sha?: string; auth?: string }[] = [];
    proxy.rule = (req) => {
      if (req.method === 'PUT' && req.url?.includes('preset-hash.bin'))
        seen.push({
          sha: String(req.headers['x-amz-content-sha256']),
          auth: String(req.headers.authorization),
        });
      return 'forward';
    };
    const body = Buffer.alloc(1024 * 1024, 0x33);
    const r = await counted.put('preset-hash.bin', body);
    proxy.rule = () => 'forward';
    const hex = createHash('sha256').update(body).digest('hex');
    expect(r.sha256).toBe(hex);
    // The SDK hashed the signing strings only, never the 1 MiB body.
    expect(hashed).toBeGreaterThan(0);
    expect(hashed).toBeLessThan(64 * 1024);
    // The signed payload hash is the body's (S3 refuses a request whose body does not match it).
    expect(seen).toHaveLength(1);
    expect(seen[0]?.sha).toBe(hex);
    expect(seen[0]?.auth).toMatch(/SignedHeaders=[^,]*x-amz-content-sha256/);
    expect((await counted.getBuffer('preset-hash.bin')).equals(body)).toBe(true);
    await counted.close();
    client.destroy();
  });

  it('multipart parts that get a 503 are retried by the upload', async () => {
    let left = 2;
    proxy.rule = (req) => (req.url?.includes('partNumber=') && left-- > 0 ? 503 : 'forward');
    const { stream, sha256 } = generated(11 * 1024 * 1024, 3);
    const r = await storage.put('multipart-retried.bin', stream);
    proxy.rule = () => 'forward';
    expect(left).toBeLessThan(0);
    expect(r.sha256).toBe(sha256);
    expect((await storage.head('multipart-retried.bin')).size).toBe(11 * 1024 * 1024);
  });

  it('a multipart put whose metadata copy keeps failing still resolves: stored, without the hash in head', async () => {
    const copies: string[] = [];
    proxy.rule = (req) => {
      if (req.headers['x-amz-copy-source'] === undefined) return 'forward';
      copies.push(String(req.headers['x-amz-copy-source-if-match']));
      return 503;
    };
    const { stream, sha256 } = generated(9 * 1024 * 1024, 4);
    const r = await storage.put('stamp/failed.bin', stream, {
      contentType: 'application/x-kept',
      metadata: { owner: 'me' },
    });
    proxy.rule = () => 'forward';
    expect(r).toMatchObject({ size: 9 * 1024 * 1024, sha256, sha256Stored: false });
    // Retried like any request, each attempt guarded by the ETag of the completed upload.
    expect(copies).toEqual([r.etag, r.etag, r.etag, r.etag]);
    const info = await storage.head('stamp/failed.bin');
    expect(info).toMatchObject({
      size: 9 * 1024 * 1024,
      contentType: 'application/x-kept',
      metadata: { owner: 'me' },
    });
    expect(info.sha256).toBeUndefined();
    expect(
      createHash('sha256')
        .update(await storage.getBuffer('stamp/failed.bin'))
        .digest('hex'),
    ).toBe(sha256);
  });

  it('an upload aborted halfway leaves no object and no pending multipart upload', async () => {
    const ctrl = new AbortController();
    let sent = 0;
    const total = 64 * 1024 * 1024;
    const chunk = Buffer.alloc(256 * 1024, 7);
    const body = new Readable({
      read() {
        if (sent >= total) return this.push(null);
        sent += chunk.length;
        // Abort after 20 MiB have been read (past the first parts), well before the end.
        if (sent >= 20 * 1024 * 1024 && !ctrl.signal.aborted) ctrl.abort();
        setImmediate(() => this.push(chunk));
      },
    });
    expect(await code(storage.put('aborted/half.bin', body, { signal: ctrl.signal }))).toBe(
      'ERR_ABORTED',
    );
    expect(sent).toBeLessThan(total);
    expect(await storage.exists('aborted/half.bin')).toBe(false);
    // The caller's await ends at the abort; the AbortMultipartUpload follows in the background.
    await waitFor(
      'the multipart upload to be aborted',
      async () => {
        const pending = await moto.admin.send(
          new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'aborted/' }),
        );
        return (pending.Uploads ?? []).length === 0;
      },
      15_000,
    );
    expect(await storage.exists('aborted/half.bin')).toBe(false);
  });

  it('a source stream that fails halfway leaves no object', async () => {
    let n = 0;
    const body = new Readable({
      read() {
        if (++n > 60) return this.destroy(new Error('client went away'));
        this.push(Buffer.alloc(256 * 1024, 1));
      },
    });
    await expect(storage.put('failed/half.bin', body)).rejects.toThrow();
    expect(await storage.exists('failed/half.bin')).toBe(false);
  });

  it('a download cut halfway fails with a StorageError, not a raw socket error', async () => {
    await storage.put('cut/big.bin', Buffer.alloc(4 * 1024 * 1024, 9));
    proxy.rule = (req) => (req.method === 'GET' ? 'cut' : 'forward');
    const stream = await storage.getStream('cut/big.bin');
    let received = 0;
    const err = await (async () => {
      for await (const c of stream) received += (c as Buffer).length;
    })().catch((e: unknown) => e);
    proxy.rule = () => 'forward';
    expect(received).toBeLessThan(4 * 1024 * 1024);
    expect(isStorageError(err)).toBe(true);
  });

  it('a download aborted while it streams fails with AbortedError', async () => {
    await storage.put('abort/big.bin', Buffer.alloc(4 * 1024 * 1024, 8));
    const ctrl = new AbortController();
    const stream = await storage.getStream('abort/big.bin', { signal: ctrl.signal });
    const err = await (async () => {
      for await (const _ of stream) ctrl.abort();
    })().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_ABORTED' });
  });

  it('bounds a call to a server that never answers with ERR_TIMEOUT', async () => {
    proxy.rule = () => 'hang';
    const started = Date.now();
    const late = await storage.head('slow', { timeout: 300 }).catch((e: unknown) => e);
    expect(late).toMatchObject({ code: 'ERR_TIMEOUT', timeoutMs: 300 });
    const health = await storage.health({ timeout: 300 });
    expect(health).toMatchObject({ available: false, backend: 's3' });
    expect(health.error).toMatch(/timed out/);
    proxy.rule = () => 'forward';
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('copies objects over the CopyObject limit part by part, keeping metadata', async () => {
    const big = createStorage({
      s3: {
        bucket,
        ...motoConnection(moto.endpoint),
        storeMultipartSha256: true,
        copyLimit: 6 * 1024 * 1024,
      },
    });
    const { stream, sha256 } = generated(13 * 1024 * 1024, 5);
    const put = await big.put('copy/src.bin', stream, {
      contentType: 'application/x-big',
      metadata: { owner: 'me' },
    });
    // Above copyLimit no single CopyObject can add the hash to the metadata: put says so.
    expect(put).toMatchObject({ sha256, sha256Stored: false });
    expect((await big.head('copy/src.bin')).sha256).toBeUndefined();
    await big.copy('copy/src.bin', 'copy/dst.bin');
    const info = await big.head('copy/dst.bin');
    expect(info).toMatchObject({
      size: 13 * 1024 * 1024,
      contentType: 'application/x-big',
      metadata: { owner: 'me' },
    });
    expect(info.etag).toMatch(/-3"?$/); // three UploadPartCopy parts of 6 MiB at most
    expect(
      createHash('sha256')
        .update(await big.getBuffer('copy/dst.bin'))
        .digest('hex'),
    ).toBe(sha256);
    expect(await code(big.copy('copy/missing.bin', 'copy/x.bin'))).toBe('ERR_STORAGE_NOT_FOUND');
    await big.deleteMany(['copy/src.bin', 'copy/dst.bin']);
    await big.close();
  });

  it('by default (storeMultipartSha256 off) a multipart put sends no metadata copy', async () => {
    const plain = createStorage({
      s3: { bucket, ...motoConnection(proxy.endpoint) },
    });
    const copies: unknown[] = [];
    proxy.rule = (req) => {
      if (req.headers['x-amz-copy-source'] !== undefined) copies.push(req.url);
      return 'forward';
    };
    const { stream, sha256 } = generated(9 * 1024 * 1024, 6);
    const r = await plain.put('stamp/off.bin', stream);
    proxy.rule = () => 'forward';
    expect(r).toMatchObject({ sha256, sha256Stored: false });
    expect(copies).toEqual([]);
    expect((await plain.head('stamp/off.bin')).sha256).toBeUndefined();
    await plain.close();
  });

  it('S3 gone (closed port): a clear ERR_STORAGE_UNAVAILABLE in bounded time', async () => {
    const port = await freePort();
    const gone = createStorage({
      s3: { bucket, ...motoConnection(`http://127.0.0.1:${port}`) },
    });
    const started = Date.now();
    const err = await gone.put('x.txt', 'x').catch((e: unknown) => e);
    expect(isStorageError(err, 'ERR_STORAGE_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toMatch(
      /unreachable at http:\/\/127\.0\.0\.1:\d+\/.*ECONNREFUSED/,
    );
    expect((err as Error).message).not.toContain(credentials.secretAccessKey + 'x');
    expect(Date.now() - started).toBeLessThan(5_000);
    const health = await gone.health();
    expect(health).toMatchObject({ available: false, backend: 's3' });
    await gone.close();
  });
});
