import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createService } from '../src/server.js';

// The example on its embedded defaults: memory cache, local disk under a temporary root,
// a generated backup key, an in-memory key ring.
const root = mkdtempSync(join(tmpdir(), 'example-service-'));
const ADMIN = 'test-admin-token';
let base = '';
let close: () => Promise<void>;
beforeAll(async () => {
  process.env.STORAGE_ROOT = root;
  process.env.ADMIN_TOKEN = ADMIN;
  delete process.env.REDIS_URL;
  delete process.env.AWS_S3_BUCKET;
  const service = await createService({ shutdownDelay: 0, drainTimeout: 1_000 });
  await new Promise<void>((r) => service.server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(service.server.address() as AddressInfo).port}`;
  close = service.close;
});
afterAll(async () => {
  await close();
  rmSync(root, { recursive: true, force: true });
});

const json = async <T>(path: string, init?: RequestInit): Promise<{ status: number; body: T }> => {
  const res = await fetch(`${base}${path}`, init);
  return { status: res.status, body: (await res.json()) as T };
};

describe('every package on its embedded default', () => {
  it('alerts: without SENTRY_DSN an alert is one JSON line on stderr, scrubbed', async () => {
    const lines: string[] = [];
    const write = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      const { status, body } = await json<{ accepted: boolean }>('/alerts/test', {
        method: 'POST',
      });
      expect(status).toBe(200);
      expect(body.accepted).toBe(true);
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      write.mockRestore();
    }
    const events = lines.filter((l) => l.includes('external_service_error'));
    expect(events.length).toBe(1);
    expect(JSON.parse(events[0]!)).toMatchObject({ level: 'error' });
  });

  it('health: /health answers for the load balancer, /health/full lists every check', async () => {
    const quick = await json<{ status: string }>('/health');
    expect(quick.status).toBe(200);
    expect(quick.body.status).toMatch(/healthy|degraded/);
    const full = await fetch(`${base}/health/full`);
    expect([200, 503]).toContain(full.status);
    const text = await full.text();
    for (const check of ['eventLoop', 'breakers', 'cache', 'storage'])
      expect(text).toContain(check);
  });

  it('cache: the second read is served from the cache, the loader ran once', async () => {
    const first = await json<{ source: string; loaderRuns: number }>('/cache/contractor?id=77');
    const second = await json<{ source: string; loaderRuns: number }>('/cache/contractor?id=77');
    expect(first.body.source).toBe('loader');
    expect(second.body).toMatchObject({ source: 'cache', loaderRuns: first.body.loaderRuns });
    const h = await json<{ available: boolean; backend: string }>('/cache/health');
    expect(h.body).toMatchObject({ available: true });
  });

  it('storage: a file put on the local disk reads back byte-exact and is listed', async () => {
    const body = `report ${Date.now()} ✓`;
    const put = await fetch(`${base}/storage/uploads?key=docs/report.txt`, {
      method: 'PUT',
      body,
      headers: { 'content-type': 'text/plain' },
    });
    expect(put.status).toBe(200);
    const got = await fetch(`${base}/storage/uploads?key=docs/report.txt`);
    expect(await got.text()).toBe(body);
    const list = await json<{ items: unknown[] }>('/storage/list?namespace=uploads');
    expect(JSON.stringify(list.body.items)).toContain('docs/report.txt');
    const bad = await fetch(`${base}/storage/uploads?key=../escape.txt`, {
      method: 'PUT',
      body: 'x',
    });
    expect(bad.status).toBe(400);
  });

  it('key-rotation: a token verifies, survives a rotation, and the JWKS lists both keys', async () => {
    const { body: pair } = await json<{ access_token: string }>('/auth/token', {
      method: 'POST',
      body: JSON.stringify({ sub: 'user-1' }),
    });
    const auth = { authorization: `Bearer ${pair.access_token}` };
    expect((await json<{ sub: string }>('/auth/me', { headers: auth })).body.sub).toBe('user-1');
    const refused = await fetch(`${base}/auth/rotate`, { method: 'POST', headers: auth });
    expect(refused.status).toBe(403);
    await json('/auth/rotate', { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` } });
    const after = await json<{ sub: string }>('/auth/me', { headers: auth });
    expect(after.status).toBe(200);
    const jwks = await json<{ keys: unknown[] }>('/.well-known/jwks.json');
    expect(jwks.body.keys.length).toBeGreaterThanOrEqual(2);
    const forged = await fetch(`${base}/auth/me`, {
      headers: { authorization: `Bearer ${pair.access_token}x` },
    });
    expect(forged.status).toBe(401);
  });

  it('backup-crypto: what /encrypt returns, /decrypt gives back', async () => {
    const plain = 'pg_dump output\n'.repeat(1_000);
    const token = await (
      await fetch(`${base}/backup-crypto/encrypt`, { method: 'POST', body: plain })
    ).text();
    expect(token).toMatch(/^gAAAAA/);
    const back = await fetch(`${base}/backup-crypto/decrypt`, { method: 'POST', body: token });
    expect(await back.text()).toBe(plain);
    const tampered = await fetch(`${base}/backup-crypto/decrypt`, {
      method: 'POST',
      body: `${token.slice(0, -5)}AAAA=`,
    });
    expect(tampered.status).toBe(400);
  });
});
