import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createLocalDriver, createStorage, createUrlSigner, OPERATION_CHANNEL } from '@org/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { code, localHarness } from './harness.js';

describe('local driver', () => {
  let base: string;
  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'org-storage-local-'));
  });
  afterAll(() => rm(base, { recursive: true, force: true }));

  it('keeps objects under root/<namespace>/<key> with a sidecar beside them', async () => {
    const root = join(base, 'layout');
    const s = createStorage({ local: { root }, namespaces: ['pdfs', 'uploads', 'logos'] });
    await s.namespace('pdfs').put('2024/invoice.pdf', '%PDF', { contentType: 'application/pdf' });
    expect(await readFile(join(root, 'pdfs/2024/invoice.pdf'), 'utf8')).toBe('%PDF');
    const side = JSON.parse(await readFile(join(root, 'pdfs/2024/.~meta/invoice.pdf'), 'utf8'));
    expect(side).toMatchObject({ contentType: 'application/pdf', size: 4 });
    expect(() => s.namespace('videos')).toThrow(/Unknown namespace "videos"/);
  });

  it('refuses keys that would leave the root, whatever the encoding', async () => {
    const s = createStorage({ local: { root: join(base, 'trav') } });
    for (const key of [
      '../x',
      'a/../../x',
      '%2e%2e/x',
      '..%2fx',
      'a\\..\\..\\x',
      '/etc/passwd',
      'C:/x',
      'a\u0000b',
    ]) {
      expect(await code(s.put(key, 'x'))).toBe('ERR_STORAGE_INVALID_KEY');
      expect(await code(s.getBuffer(key))).toBe('ERR_STORAGE_INVALID_KEY');
    }
    expect(await readdir(base)).not.toContain('x');
  });

  it('refuses symlinks that lead out of the root, for reads and writes', async () => {
    const root = join(base, 'sym');
    const outside = join(base, 'outside');
    await mkdir(root, { recursive: true });
    await mkdir(outside, { recursive: true });
    await writeFile(join(outside, 'secret.txt'), 'secret');
    await symlink(outside, join(root, 'linkdir'));
    await symlink(join(outside, 'secret.txt'), join(root, 'link.txt'));
    const s = createStorage({ local: { root } });
    expect(await code(s.getBuffer('linkdir/secret.txt'))).toBe('ERR_STORAGE_INVALID_KEY');
    expect(await code(s.getBuffer('link.txt'))).toBe('ERR_STORAGE_INVALID_KEY');
    expect(await code(s.head('link.txt'))).toBe('ERR_STORAGE_INVALID_KEY');
    expect(await code(s.put('linkdir/new.txt', 'x'))).toBe('ERR_STORAGE_INVALID_KEY');
    expect(await code(s.put('linkdir/deeper/new.txt', 'x'))).toBe('ERR_STORAGE_INVALID_KEY');
    expect(await readdir(outside)).toEqual(['secret.txt']);
  });

  it('writes atomically: readers see the old or the new object whole, never a part', async () => {
    const root = join(base, 'atomic');
    const s = createStorage({ local: { root } });
    const a = Buffer.alloc(4 * 1024 * 1024, 'a');
    const b = Buffer.alloc(4 * 1024 * 1024, 'b');
    await s.put('obj', a);
    let stop = false;
    const seen = new Set<string>();
    const reader = (async () => {
      while (!stop) {
        const got = await s.getBuffer('obj');
        expect(got.length).toBe(a.length);
        seen.add(got.equals(a) ? 'a' : got.equals(b) ? 'b' : 'torn');
      }
    })();
    for (let i = 0; i < 10; i++) {
      // A slow stream: the temp file grows in steps while readers read.
      const half = b.length / 2;
      await s.put('obj', Readable.from([b.subarray(0, half), b.subarray(half)]));
      await s.put('obj', a);
    }
    stop = true;
    await reader;
    expect(seen.has('torn')).toBe(false);
    expect(seen.size).toBeGreaterThan(0);
  });

  it('leaves nothing behind when a streamed put fails halfway', async () => {
    const root = join(base, 'fail');
    const s = createStorage({ local: { root } });
    await s.put('kept.txt', 'old');
    const failing = new Readable({
      read() {
        this.push(Buffer.alloc(1024, 'x'));
        setTimeout(() => this.destroy(new Error('client went away')), 5);
      },
    });
    await expect(s.put('kept.txt', failing)).rejects.toThrow();
    expect((await s.getBuffer('kept.txt')).toString()).toBe('old');
    const ctrl = new AbortController();
    const slow = new Readable({ read() {} });
    slow.push(Buffer.alloc(1024));
    const p = s.put('aborted.bin', slow, { signal: ctrl.signal });
    setTimeout(() => ctrl.abort(), 20);
    expect(await code(p)).toBe('ERR_ABORTED');
    expect(await s.exists('aborted.bin')).toBe(false);
    const files = await readdir(root, { recursive: true });
    expect(files.filter((f) => f.includes('.~tmp-'))).toEqual([]);
  });

  it('reports a key that is both an object and a folder as ERR_STORAGE_KEY_CONFLICT', async () => {
    const s = createStorage({ local: { root: join(base, 'conflict') } });
    await s.put('a', 'x');
    expect(await code(s.put('a/b', 'y'))).toBe('ERR_STORAGE_KEY_CONFLICT');
    await s.put('c/d', 'y');
    expect(await code(s.put('c', 'x'))).toBe('ERR_STORAGE_KEY_CONFLICT');
    // Deleting the last object of a folder frees the name.
    await s.delete('c/d');
    await s.put('c', 'x');
    expect((await s.getBuffer('c')).toString()).toBe('x');
  });

  it('signed URLs expire, bind the method and serve ranges over HTTP', async () => {
    const h = await localHarness();
    try {
      await h.storage.put('r.txt', '0123456789', { cacheControl: 'max-age=5' });
      const url = await h.storage.signedUrl('r.txt', { expiresIn: '1s' });
      const res = await fetch(url, { headers: { range: 'bytes=3-5' } });
      expect(res.status).toBe(206);
      expect(res.headers.get('content-range')).toBe('bytes 3-5/10');
      expect(res.headers.get('cache-control')).toBe('max-age=5');
      expect(await res.text()).toBe('345');
      expect((await fetch(url, { method: 'PUT', body: 'x' })).status).toBe(405);
      expect((await fetch(url.replace(/sig=[^&]+/, 'sig=AAAA'))).status).toBe(403);
    } finally {
      await h.close();
    }
  });

  it('the signed PUT handler refuses uploads over its limit, chunked ones too', async () => {
    const root = join(base, 'limit');
    const driver = createLocalDriver({
      root,
      signing: { secret: 'l'.repeat(32), baseUrl: 'http://127.0.0.1:1/up' },
    });
    const signer = createUrlSigner({ secret: 'l'.repeat(32), baseUrl: 'http://127.0.0.1:1/up' });
    const { createSignedUrlHandler } = await import('@org/storage');
    const handler = createSignedUrlHandler({ driver, signer, maxUploadBytes: 1000 });
    const { createServer } = await import('node:http');
    const server = createServer((req, res) => void handler(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const url = signer.sign('big.bin', 'PUT', '60s').replace('127.0.0.1:1', `127.0.0.1:${port}`);
      const chunked = new ReadableStream<Uint8Array>({
        start(c) {
          for (let i = 0; i < 5; i++) c.enqueue(new Uint8Array(400));
          c.close();
        },
      });
      const res = await fetch(url, { method: 'PUT', body: chunked, duplex: 'half' } as RequestInit);
      expect(res.status).toBe(413);
      expect(await driver.exists?.('big.bin', {})).toBe(false);
      const ok = await fetch(url, { method: 'PUT', body: new Uint8Array(999) });
      expect(ok.status).toBe(200);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('answers 400 to a request target no URL parser takes, instead of throwing out of the listener', async () => {
    const h = await localHarness();
    const { createServer } = await import('node:http');
    const { connect } = await import('node:net');
    const handler = h.storage.handler();
    const thrown: unknown[] = [];
    const server = createServer((req, res) => {
      handler(req, res).catch((err: unknown) => {
        thrown.push(err);
        res.destroy();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    // A raw request: fetch and http.request would refuse to send these targets.
    const send = (target: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => {
          socket.end(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
        });
        let reply = '';
        socket.setEncoding('utf8');
        socket.on('data', (d: string) => {
          reply += d;
        });
        socket.on('end', () => resolve(reply));
        socket.on('error', reject);
      });
    try {
      for (const target of ['http://:99999/', 'http://[::1/']) {
        const reply = await send(target);
        expect(reply.split('\r\n')[0], target).toBe('HTTP/1.1 400 Bad Request');
      }
      expect(thrown).toEqual([]);
    } finally {
      server.closeAllConnections();
      server.close();
      await h.close();
    }
  });

  it('signer: expired and tampered tokens fail with one generic message', () => {
    let now = 1_700_000_000_000;
    const signer = createUrlSigner({
      secret: 's'.repeat(32),
      clock: { now: () => now },
      baseUrl: 'http://h/s',
    });
    const url = new URL(signer.sign('a/b c.txt', 'GET', '60s'));
    expect(signer.verify(url)).toMatchObject({ key: 'a/b c.txt', method: 'GET' });
    now += 61_000;
    expect(() => signer.verify(url)).toThrow('Signed URL is invalid or expired: ask for a new one');
    now -= 61_000;
    url.searchParams.set('method', 'PUT');
    expect(() => signer.verify(url)).toThrow('Signed URL is invalid or expired: ask for a new one');
    expect(() => createUrlSigner({ secret: 'short' })).toThrow(/32 bytes/);
  });

  it('emits an operation event per call, also on a diagnostics channel', async () => {
    const { subscribe, unsubscribe } = await import('node:diagnostics_channel');
    const s = createStorage({ local: { root: join(base, 'events') } });
    const seen: { op: string; ok: boolean; code?: string; key?: string }[] = [];
    const off = s.on('operation', (e) => seen.push(e));
    const onChannel = (m: unknown) =>
      seen.push({ ...(m as { op: string; ok: boolean }), op: `dc:${(m as { op: string }).op}` });
    subscribe(OPERATION_CHANNEL, onChannel);
    await s.put('e.txt', 'x');
    await s.head('nope').catch(() => {});
    off();
    unsubscribe(OPERATION_CHANNEL, onChannel);
    await s.head('e.txt');
    expect(seen.map((e) => e.op)).toEqual(['dc:put', 'put', 'dc:head', 'head']);
    expect(seen[1]).toMatchObject({ ok: true, key: 'e.txt' });
    expect(seen[3]).toMatchObject({ ok: false, code: 'ERR_STORAGE_NOT_FOUND', key: 'nope' });
  });

  it('health says whether the root is usable', async () => {
    const d = createLocalDriver({ root: join(base, 'health') });
    expect(await d.health({})).toMatchObject({ available: true, backend: 'local' });
  });
});

describe('signed URLs with the key in the query', () => {
  it('sign and verify keys in a `key` parameter, for exact-path routers', () => {
    const signer = createUrlSigner({
      secret: 'q'.repeat(32),
      baseUrl: 'http://h/storage/signed',
      keyInQuery: true,
    });
    const url = new URL(signer.sign('uploads/a b/ü.txt', 'PUT', '60s'));
    expect(url.pathname).toBe('/storage/signed');
    expect(signer.verify(url)).toMatchObject({ key: 'uploads/a b/ü.txt', method: 'PUT' });
    url.searchParams.set('key', 'uploads/other.txt');
    expect(() => signer.verify(url)).toThrow(/invalid or expired/);
  });
});
