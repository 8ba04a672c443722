import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStorage } from '@org/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { code } from './harness.js';

// The signed-URL handler against hostile uploads and RFC 9110's edges, over loopback.
describe('signed-URL handler edges', () => {
  let dir: string;
  let base: string;
  let server: ReturnType<typeof createServer>;
  let storage: ReturnType<typeof createStorage>;
  let inline: ReturnType<ReturnType<typeof createStorage>['handler']>;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'org-storage-edges-'));
    server = createServer((req, res) => {
      const h = req.url?.startsWith('/inline/') ? inline : handler;
      if (req.url?.startsWith('/inline/')) req.url = req.url.slice('/inline'.length);
      h(req, res).catch(() => res.destroy());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    base = `http://127.0.0.1:${port}`;
    storage = createStorage({
      local: {
        root: dir,
        fsync: false,
        signing: { secret: 's'.repeat(32), baseUrl: `${base}/signed` },
      },
    });
    const handler = storage.handler();
    inline = storage.handler({ inlineActiveContent: true });
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await rm(dir, { recursive: true, force: true });
  });

  it('sends nosniff always and serves active content (html, svg, xml, js) as an attachment', async () => {
    const active = [
      'text/html',
      'TEXT/HTML; charset=utf-8',
      'application/xhtml+xml',
      'image/svg+xml',
      'application/xml',
      'text/xml',
      'text/javascript',
      'application/javascript',
      'application/ecmascript',
      'text/xsl',
      'multipart/x-mixed-replace; boundary=x',
    ];
    for (const [i, contentType] of active.entries()) {
      await storage.put(`xss/${i}`, '<script>alert(1)</script>', { contentType });
      const res = await fetch(await storage.signedUrl(`xss/${i}`));
      expect(res.status, contentType).toBe(200);
      expect(res.headers.get('x-content-type-options'), contentType).toBe('nosniff');
      expect(res.headers.get('content-disposition'), contentType).toMatch(/^attachment/);
      await res.arrayBuffer();
    }
    await storage.put('plain.txt', 'hello', { contentType: 'text/plain' });
    const plain = await fetch(await storage.signedUrl('plain.txt'));
    expect(plain.headers.get('x-content-type-options')).toBe('nosniff');
    expect(plain.headers.get('content-disposition')).toBeNull();
    await plain.arrayBuffer();
    // Error answers carry nosniff too.
    const missing = await fetch(await storage.signedUrl('nope.txt'));
    expect(missing.status).toBe(404);
    expect(missing.headers.get('x-content-type-options')).toBe('nosniff');
    await missing.arrayBuffer();
  });

  it('serves active content inline when the caller opts in', async () => {
    await storage.put('page.html', '<p>hi</p>', { contentType: 'text/html' });
    const url = new URL(await storage.signedUrl('page.html'));
    const res = await fetch(`${base}/inline${url.pathname}${url.search}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBeNull();
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await res.text()).toBe('<p>hi</p>');
  });

  it('answers 416 to a range whose end is before its start, on GET and HEAD', async () => {
    await storage.put('r.txt', '0123456789');
    const url = await storage.signedUrl('r.txt');
    for (const method of ['GET', 'HEAD']) {
      const res = await fetch(url, { method, headers: { range: 'bytes=5-2' } });
      expect(res.status, method).toBe(416);
      expect(res.headers.get('content-range'), method).toBe('bytes */10');
      // A 4xx says what is wrong (HEAD: the same headers, no body).
      const text = await res.text();
      if (method === 'GET') expect(text).toContain('inside the object (10 bytes)');
      else expect(text).toBe('');
    }
  });

  it('serves suffix ranges (bytes=-N) and multi-range requests, never 416 when satisfiable', async () => {
    await storage.put('s.txt', '0123456789');
    const url = await storage.signedUrl('s.txt');
    const tail = await fetch(url, { headers: { range: 'bytes=-3' } });
    expect(tail.status).toBe(206);
    expect(tail.headers.get('content-range')).toBe('bytes 7-9/10');
    expect(await tail.text()).toBe('789');
    const all = await fetch(url, { headers: { range: 'bytes=-50' } });
    expect(all.status).toBe(206);
    expect(all.headers.get('content-range')).toBe('bytes 0-9/10');
    expect(await all.text()).toBe('0123456789');
    const head = await fetch(url, { method: 'HEAD', headers: { range: 'bytes=-3' } });
    expect(head.status).toBe(206);
    expect(head.headers.get('content-length')).toBe('3');
    const multi = await fetch(url, { headers: { range: 'bytes=0-1, 4-5' } });
    expect([200, 206]).toContain(multi.status);
    if (multi.status === 200) expect(await multi.text()).toBe('0123456789');
    else await multi.arrayBuffer();
    const zero = await fetch(url, { headers: { range: 'bytes=-0' } });
    expect(zero.status).toBe(416);
    await zero.arrayBuffer();
    // A unit the server does not know is ignored (RFC 9110 §14.2).
    const items = await fetch(url, { headers: { range: 'items=0-1' } });
    expect(items.status).toBe(200);
    expect(await items.text()).toBe('0123456789');
  });

  it('a 405 carries Allow', async () => {
    await storage.put('m.txt', 'x');
    const get = await fetch(await storage.signedUrl('m.txt'), { method: 'PUT', body: 'y' });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('GET, HEAD');
    await get.arrayBuffer();
    const put = await fetch(await storage.signedUrl('m2.txt', { method: 'PUT' }));
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('PUT');
    await put.arrayBuffer();
  });

  it('answers 409 to a signed PUT whose key is both an object and a folder', async () => {
    await storage.put('folder', 'x');
    const url = await storage.signedUrl('folder/child', { method: 'PUT' });
    const res = await fetch(url, { method: 'PUT', body: 'y' });
    expect(res.status).toBe(409);
    await res.arrayBuffer();
  });

  it('a bad expiresIn is the caller’s mistake (ERR_STORAGE_INVALID_OPTION), and a bad expires in a URL is 403', async () => {
    for (const expiresIn of [0, -1, 900, '15 parsecs', 'abc', '8d', Number.NaN, {}]) {
      expect(await code(storage.signedUrl('m.txt', { expiresIn: expiresIn as never }))).toBe(
        'ERR_STORAGE_INVALID_OPTION',
      );
    }
    const url = await storage.signedUrl('m.txt');
    for (const expires of ['abc', '1e400', '-1', '']) {
      const res = await fetch(url.replace(/expires=\d+/, `expires=${expires}`));
      expect(res.status, expires).toBe(403);
      await res.arrayBuffer();
    }
  });
});
