import { mkdtempSync, rmSync } from 'node:fs';
import { type ClientRequest, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createService } from '../src/server.js';

// `Expect: 100-continue`: what will be refused is refused from the headers, before the body.
const root = mkdtempSync(join(tmpdir(), 'example-service-continue-'));
const MAX_UPLOAD = 1_024;
let base = '';
let close: () => Promise<void>;
beforeAll(async () => {
  process.env.STORAGE_ROOT = root;
  process.env.MAX_UPLOAD_BYTES = String(MAX_UPLOAD);
  process.env.DECRYPT_CONCURRENCY = '1';
  const service = await createService({ shutdownDelay: 0, drainTimeout: 1_000 });
  await new Promise<void>((r) => service.server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(service.server.address() as AddressInfo).port}`;
  close = service.close;
});
afterAll(async () => {
  await close();
  delete process.env.MAX_UPLOAD_BYTES;
  delete process.env.DECRYPT_CONCURRENCY;
  rmSync(root, { recursive: true, force: true });
});

interface Outcome {
  status: number;
  /** Whether the server said 100 Continue (and so the body was sent). */
  continued: boolean;
  retryAfter: string | undefined;
  body: string;
}

/** Sends the headers with `Expect: 100-continue`, and `body` only if the server says continue. */
function withExpect(method: string, path: string, body: Buffer | string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    let continued = false;
    const req: ClientRequest = request(`${base}${path}`, {
      method,
      headers: { expect: '100-continue', 'content-length': String(Buffer.byteLength(body)) },
      signal: AbortSignal.timeout(10_000),
    });
    req.on('continue', () => {
      continued = true;
      req.end(body);
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => {
        text += d;
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          continued,
          retryAfter: res.headers['retry-after'],
          body: text,
        }),
      );
    });
    req.on('error', reject);
    req.flushHeaders();
  });
}

describe('Expect: 100-continue', () => {
  it('an upload declared over MAX_UPLOAD_BYTES is a 413 before its body is sent', async () => {
    const big = await withExpect(
      'PUT',
      '/storage/uploads?key=c/big.bin',
      Buffer.alloc(MAX_UPLOAD + 1),
    );
    expect(big).toMatchObject({ status: 413, continued: false });
    expect(JSON.parse(big.body)).toMatchObject({ maxBytes: MAX_UPLOAD });
    const small = await withExpect('PUT', '/storage/uploads?key=c/small.bin', 'fits');
    expect(small).toMatchObject({ status: 200, continued: true });
    expect(await (await fetch(`${base}/storage/uploads?key=c/small.bin`)).text()).toBe('fits');
    expect((await fetch(`${base}/storage/uploads?key=c/big.bin`)).status).toBe(404);
  });

  it('a decrypt declared over 64 MiB is a 413 before its body is sent', async () => {
    const req = request(`${base}/backup-crypto/decrypt`, {
      method: 'POST',
      headers: { expect: '100-continue', 'content-length': String(64 * 1024 * 1024 + 1) },
    });
    let continued = false;
    req.on('continue', () => {
      continued = true;
    });
    const status = await new Promise<number>((resolve, reject) => {
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.flushHeaders();
    });
    req.destroy();
    expect({ status, continued }).toEqual({ status: 413, continued: false });
  });

  it('with the decrypt pool full, a 503 with Retry-After before the body; once free, 100 and 200', async () => {
    const token = await (
      await fetch(`${base}/backup-crypto/encrypt`, { method: 'POST', body: 'secret dump' })
    ).text();
    // One decryption holds the only slot: its body arrives slowly and has not ended.
    const holder = request(`${base}/backup-crypto/decrypt`, {
      method: 'POST',
      headers: { 'content-length': String(token.length) },
    });
    holder.on('error', () => {});
    holder.write(token.slice(0, 10));
    await new Promise((r) => setTimeout(r, 300));
    const refused = await withExpect('POST', '/backup-crypto/decrypt', token);
    expect(refused).toMatchObject({ status: 503, continued: false, retryAfter: '1' });
    // The holder finishes; the slot is free again.
    const held = new Promise<number>((resolve) =>
      holder.on('response', (res) => {
        res.resume().on('end', () => resolve(res.statusCode ?? 0));
      }),
    );
    holder.end(token.slice(10));
    expect(await held).toBe(200);
    // The slot is released just after the holder's response is out: retry briefly.
    let admitted = await withExpect('POST', '/backup-crypto/decrypt', token);
    for (let i = 0; i < 20 && admitted.status === 503; i++) {
      await new Promise((r) => setTimeout(r, 50));
      admitted = await withExpect('POST', '/backup-crypto/decrypt', token);
    }
    expect(admitted).toMatchObject({ status: 200, continued: true, body: 'secret dump' });
  });
});
