import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Fernet, generateKey } from '@org/backup-crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createService } from '../src/server.js';

// The routes that take large bodies, with small limits set the way an operator sets them.
const MAX_UPLOAD = 64 * 1024;
const root = mkdtempSync(join(tmpdir(), 'example-limits-'));
const key = generateKey();
let port = 0;
let close: () => Promise<void>;
beforeAll(async () => {
  process.env.STORAGE_ROOT = root;
  process.env.MAX_UPLOAD_BYTES = String(MAX_UPLOAD);
  process.env.DECRYPT_CONCURRENCY = '2';
  process.env.BACKUP_ENCRYPTION_KEY = key;
  delete process.env.REDIS_URL;
  delete process.env.AWS_S3_BUCKET;
  const service = await createService({ shutdownDelay: 0, drainTimeout: 1_000 });
  await new Promise<void>((r) => service.server.listen(0, '127.0.0.1', r));
  port = (service.server.address() as AddressInfo).port;
  close = service.close;
});
afterAll(async () => {
  await close();
  for (const k of ['MAX_UPLOAD_BYTES', 'DECRYPT_CONCURRENCY', 'BACKUP_ENCRYPTION_KEY']) {
    delete process.env[k];
  }
  rmSync(root, { recursive: true, force: true });
});

interface Sent {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** Request bytes written before the answer came. */
  written: number;
}

/**
 * Sends `body` (or `total` bytes of `a`) in 16 KiB pieces, chunked unless `declared` is given
 * (then with that Content-Length), `paceMs` apart, and stops writing once an answer arrives.
 */
function upload(
  method: string,
  path: string,
  body: number | Buffer,
  declared?: number,
  paceMs = 0,
): Promise<Sent> {
  const data = typeof body === 'number' ? Buffer.alloc(body, 'a') : body;
  const total = data.length;
  return new Promise((resolve, reject) => {
    let written = 0;
    let answered = false;
    const req = request({
      host: '127.0.0.1',
      port,
      method,
      path,
      headers: declared === undefined ? {} : { 'content-length': String(declared) },
    });
    req.on('response', (res) => {
      answered = true;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, written }),
      );
    });
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    const pump = () => {
      if (answered || written >= total) {
        if (!answered && written >= total) req.end();
        return;
      }
      const n = Math.min(16 * 1024, total - written);
      const ok = req.write(data.subarray(written, written + n));
      written += n;
      if (paceMs > 0) setTimeout(pump, paceMs);
      else if (ok) setImmediate(pump);
      else req.once('drain', pump);
    };
    pump();
  });
}

/** Sends the first 16 KiB of `body` at once and the rest when `finish` is called. */
function heldUpload(path: string, body: Buffer): { sent: Promise<Sent>; finish: () => void } {
  const req = request({ host: '127.0.0.1', port, method: 'POST', path });
  const sent = new Promise<Sent>((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('latin1');
      res.on('data', (d: string) => {
        text += d;
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, written: 0 }),
      );
    });
    req.on('error', reject);
  });
  req.write(body.subarray(0, 16 * 1024));
  return { sent, finish: () => req.end(body.subarray(16 * 1024)) };
}

const uploads = () => {
  try {
    return readdirSync(join(root, 'uploads'), { recursive: true }).map(String);
  } catch {
    return [];
  }
};

describe('PUT /storage/<namespace>: MAX_UPLOAD_BYTES', () => {
  it('a body within the limit is stored', async () => {
    const res = await upload('PUT', '/storage/uploads?key=fits.bin', MAX_UPLOAD, MAX_UPLOAD);
    expect(res.status).toBe(200);
  });

  it('a Content-Length past the limit is a 413 before the body is read', async () => {
    const res = await upload('PUT', '/storage/uploads?key=declared.bin', 0, MAX_UPLOAD + 1);
    expect(res.status).toBe(413);
    expect(res.headers.connection).toBe('close');
    expect(JSON.parse(res.body)).toMatchObject({ maxBytes: MAX_UPLOAD });
    expect(uploads().some((f) => f.includes('declared'))).toBe(false);
  });

  it('a chunked body that crosses the limit is a 413, and nothing of it is stored', async () => {
    const res = await upload('PUT', '/storage/uploads?key=chunked.bin', 16 * MAX_UPLOAD);
    expect(res.status).toBe(413);
    const got = await fetch(`http://127.0.0.1:${port}/storage/uploads?key=chunked.bin`);
    expect(got.status).toBe(404);
    expect(uploads().some((f) => f.includes('chunked'))).toBe(false);
  });
});

describe('POST /backup-crypto/decrypt: streamed, and bounded in concurrency', () => {
  it('a token is verified before its plaintext is sent; a forged one is a 400', async () => {
    const plain = Buffer.alloc(3 * 1024 * 1024 + 7, 'backup line\n');
    const token = new Fernet(key).encrypt(plain);
    const res = await fetch(`http://127.0.0.1:${port}/backup-crypto/decrypt`, {
      method: 'POST',
      body: token,
    });
    expect(res.status).toBe(200);
    expect(Number(res.headers.get('content-length'))).toBe(plain.length);
    expect(Buffer.from(await res.arrayBuffer()).equals(plain)).toBe(true);
    const forged = await fetch(`http://127.0.0.1:${port}/backup-crypto/decrypt`, {
      method: 'POST',
      body: `${token.slice(0, -6)}AAAAA=`,
    });
    expect(forged.status).toBe(400);
  });

  it('a Content-Length past 64 MiB is a 413 before the body is read', async () => {
    const res = await upload('POST', '/backup-crypto/decrypt', 0, 64 * 1024 * 1024 + 1);
    expect(res.status).toBe(413);
    expect(res.body).toMatch(/format=chunked/);
  });

  it('past DECRYPT_CONCURRENCY at once, 503 with Retry-After; a slot freed serves again', async () => {
    // Two uploads of a real token hold both slots: their first piece is sent, the rest waits.
    const long = Buffer.from(new Fernet(key).encrypt(Buffer.alloc(150_000, 'x')));
    const held = [0, 1].map(() => heldUpload('/backup-crypto/decrypt', long));
    const token = new Fernet(key).encrypt('third');
    const decrypt = () =>
      fetch(`http://127.0.0.1:${port}/backup-crypto/decrypt`, { method: 'POST', body: token });
    // Both reach the server within milliseconds; a probe sent before they did would take a
    // slot for a moment, so the first probe waits for them.
    await new Promise((r) => setTimeout(r, 300));
    const busy = await decrypt();
    expect(busy.status).toBe(503);
    expect(busy.headers.get('retry-after')).toBe('1');
    expect(await busy.json()).toMatchObject({ error: expect.stringMatching(/retry/) });
    // The held ones are answered in full once sent, and their slots are free again.
    for (const h of held) h.finish();
    const done = await Promise.all(held.map((h) => h.sent));
    expect(done.map((r) => [r.status, r.body.length])).toEqual([
      [200, 150_000],
      [200, 150_000],
    ]);
    const again = await decrypt();
    expect(again.status).toBe(200);
    expect(await again.text()).toBe('third');
  });
});
