import { request } from 'node:http';
import { createHealth } from '@org/health';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { listen } from './helpers.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

/** A raw request over loopback: status, headers and the bytes of the body. */
function raw(url: string, method: string) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      const req = request(url, { method, timeout: 5000 }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          body += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', reject);
      req.end();
    },
  );
}

describe('HEAD is answered like GET, without a body', () => {
  const health = () =>
    createHealth({ checks: { database: () => undefined }, quick: ['database'], cache: 0 });

  it('node:http handler: same status and headers, Content-Length of the GET body', async () => {
    // Cached, so GET and HEAD describe the same report (a fresh one differs in its timings).
    const cached = createHealth({
      checks: { database: () => undefined },
      quick: ['database'],
      cache: '1m',
    });
    const srv = await listen(cached.handler());
    closers.push(srv.close);
    for (const path of ['/health', '/health/full', '/readyz', '/livez', '/startupz']) {
      const get = await raw(`${srv.url}${path}`, 'GET');
      const head = await raw(`${srv.url}${path}`, 'HEAD');
      expect(head.status, path).toBe(get.status);
      expect(head.body, path).toBe('');
      expect(head.headers['content-type'], path).toBe(get.headers['content-type']);
      expect(head.headers['content-length'], path).toBe(String(Buffer.byteLength(get.body)));
    }
  });

  it('fetch handler: same status and headers, no body', async () => {
    const h = health();
    const get = await h.fetchHandler(new Request('http://127.0.0.1/health'));
    const head = await h.fetchHandler(new Request('http://127.0.0.1/health', { method: 'HEAD' }));
    const body = await get.text();
    expect(head.status).toBe(get.status);
    expect(await head.text()).toBe('');
    expect(head.headers.get('content-length')).toBe(String(Buffer.byteLength(body)));
  });

  it('other methods get 405 with Allow', async () => {
    const h = health();
    const srv = await listen(h.handler());
    closers.push(srv.close);
    const post = await raw(`${srv.url}/health`, 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    const web = await h.fetchHandler(new Request('http://127.0.0.1/health', { method: 'DELETE' }));
    expect(web.status).toBe(405);
    expect(web.headers.get('allow')).toBe('GET, HEAD');
  });

  it('fastify: HEAD answers too', async () => {
    const app = Fastify();
    await app.register(health().fastify);
    const head = await app.inject({ method: 'HEAD', url: '/health' });
    expect(head.statusCode).toBe(200);
    expect(head.body).toBe('');
    await app.close();
  });
});

describe('critical checks count for readiness when `quick` is not given', () => {
  const failing = () => {
    throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
  };

  it('/health and /readyz are 503 when the only (critical) check fails', async () => {
    const srv = await listen(createHealth({ checks: { database: failing }, cache: 0 }).handler());
    closers.push(srv.close);
    for (const path of ['/health', '/readyz']) {
      const res = await raw(`${srv.url}${path}`, 'GET');
      expect(res.status, path).toBe(503);
      expect(JSON.parse(res.body).status, path).toBe('unhealthy');
    }
  });

  it('quick() runs the critical checks, not the optional ones; an explicit quick wins', async () => {
    let optionalRuns = 0;
    const h = createHealth({
      checks: {
        database: () => undefined,
        search: {
          check: () => {
            optionalRuns++;
          },
          critical: false,
        },
      },
      cache: 0,
    });
    expect(Object.keys((await h.quick()).checks)).toEqual(['database']);
    expect(optionalRuns).toBe(0);
    const explicit = createHealth({ checks: { database: failing }, quick: [], cache: 0 });
    expect((await explicit.quick()).status).toBe('healthy');
  });
});
