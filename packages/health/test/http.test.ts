import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { createHealth } from '@org/health';
import express from 'express';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { listen, sleep } from './helpers.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

function makeHealth(db: { down: boolean; runs: number }) {
  return createHealth({
    checks: {
      database: async () => {
        db.runs++;
        await sleep(5);
        if (db.down) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
      },
      search: { check: () => undefined, critical: false },
    },
    quick: ['database'],
    cache: 0,
    version: '1',
  });
}

describe('node:http handler', () => {
  it('serves /health (quick, simple) and /health/full (full), 503 when unhealthy', async () => {
    const db = { down: false, runs: 0 };
    const srv = await listen(makeHealth(db).handler());
    closers.push(srv.close);
    const quick = await fetch(`${srv.url}/health`);
    expect(quick.status).toBe(200);
    expect(quick.headers.get('cache-control')).toBe('no-store');
    expect(await quick.json()).toEqual({ status: 'healthy', database: 'ok' });
    const full = await fetch(`${srv.url}/health/full`);
    const body = (await full.json()) as { checks: Record<string, { latencyMs: number }> };
    expect(Object.keys(body.checks)).toEqual(['database', 'search']);
    expect(body.checks.database?.latencyMs).toBeGreaterThan(0);

    db.down = true;
    const down = await fetch(`${srv.url}/health/full`);
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({
      status: 'unhealthy',
      checks: { database: { status: 'fail', reason: 'connect ECONNREFUSED 127.0.0.1:5432' } },
    });
    expect((await fetch(`${srv.url}/nope`)).status).toBe(404);
  });

  it('answers application/health+json when asked (Accept or ?format=ietf)', async () => {
    const srv = await listen(makeHealth({ down: false, runs: 0 }).handler());
    closers.push(srv.close);
    const res = await fetch(`${srv.url}/health/full`, {
      headers: { accept: 'application/health+json' },
    });
    expect(res.headers.get('content-type')).toBe('application/health+json');
    const body = (await res.json()) as { status: string; checks: Record<string, unknown> };
    expect(body.status).toBe('pass');
    expect(Object.keys(body.checks)).toEqual(['database:responseTime', 'search:responseTime']);
    const q = await fetch(`${srv.url}/health?format=ietf`);
    expect(q.headers.get('content-type')).toBe('application/health+json');
    const simple = await fetch(`${srv.url}/health/full?format=simple`);
    expect(await simple.json()).toEqual({ status: 'healthy', database: 'ok', search: 'ok' });
  });

  it('reads Accept in any case and across repeated header lines, as Node joins them', async () => {
    const srv = await listen(makeHealth({ down: false, runs: 0 }).handler());
    closers.push(srv.close);
    const { port } = new URL(srv.url);
    const typeOf = (headerLines: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1', () =>
          socket.write(
            `GET /health HTTP/1.1\r\nHost: x\r\n${headerLines}Connection: close\r\n\r\n`,
          ),
        );
        let text = '';
        socket.on('data', (d) => {
          text += d;
        });
        socket.on('end', () => resolve(/content-type: ([^\r]*)/i.exec(text)?.[1] ?? ''));
        socket.on('error', reject);
      });
    expect(await typeOf('ACCEPT: application/health+json\r\n')).toBe('application/health+json');
    expect(await typeOf('Accept: text/plain\r\naccept: application/health+json\r\n')).toBe(
      'application/health+json',
    );
    expect(await typeOf('Accept: text/plain\r\n')).toBe('application/json; charset=utf-8');
    expect(await typeOf('')).toBe('application/json; charset=utf-8');
  });

  it('uncached probes arriving together share one run and each get the whole answer', async () => {
    const db = { down: false, runs: 0 };
    const srv = await listen(makeHealth(db).handler());
    closers.push(srv.close);
    const agent = new Agent({ keepAlive: true, maxSockets: 20 });
    const get = () =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        request(`${srv.url}/health`, { agent }, (res) => {
          let body = '';
          res.on('data', (d) => {
            body += d;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        })
          .on('error', reject)
          .end();
      });
    const answers = await Promise.all(Array.from({ length: 20 }, get));
    agent.destroy();
    for (const a of answers) {
      expect(a.status).toBe(200);
      expect(JSON.parse(a.body)).toEqual({ status: 'healthy', database: 'ok' });
    }
    // Twenty requests over twenty sockets, a 5 ms check: far fewer runs than requests.
    expect(db.runs).toBeGreaterThanOrEqual(1);
    expect(db.runs).toBeLessThan(20);
    db.down = true;
    const after = await get();
    expect(after.status).toBe(503);
  });

  it('a simple answer is reused only while every verdict is the same', async () => {
    const db = { down: false, runs: 0 };
    const srv = await listen(makeHealth(db).handler());
    closers.push(srv.close);
    const body = async (path: string) => {
      const res = await fetch(`${srv.url}${path}`);
      return { status: res.status, json: await res.json() };
    };
    for (let i = 0; i < 3; i++) {
      expect(await body('/health')).toEqual({
        status: 200,
        json: { status: 'healthy', database: 'ok' },
      });
      expect(await body('/health/full?format=simple')).toEqual({
        status: 200,
        json: { status: 'healthy', database: 'ok', search: 'ok' },
      });
    }
    db.down = true;
    expect(await body('/health')).toEqual({
      status: 503,
      json: { status: 'unhealthy', database: 'fail' },
    });
    db.down = false;
    expect(await body('/health')).toEqual({
      status: 200,
      json: { status: 'healthy', database: 'ok' },
    });
  });

  it('liveness, readiness and startup probes follow the lifecycle', async () => {
    const db = { down: false, runs: 0 };
    const health = createHealth({
      checks: { database: () => (db.down ? Promise.reject(new Error('down')) : undefined) },
      quick: ['database'],
      cache: 0,
      ready: false,
      shutdownDelay: 0,
    });
    const srv = await listen(health.handler());
    closers.push(srv.close);
    const status = async (p: string) => (await fetch(srv.url + p)).status;
    expect([
      await status('/livez'),
      await status('/startupz'),
      await status('/readyz'),
      await status('/health'),
      await status('/health/full'),
    ]).toEqual([200, 503, 503, 503, 200]);
    health.markReady();
    expect([await status('/startupz'), await status('/readyz')]).toEqual([200, 200]);
    db.down = true;
    expect(await status('/readyz')).toBe(503);
    db.down = false;
    await health.shutdown();
    expect([await status('/livez'), await status('/readyz'), await status('/health')]).toEqual([
      200, 503, 503,
    ]);
  });

  it('custom paths, HEAD and a fallback listener', async () => {
    const health = makeHealth({ down: false, runs: 0 });
    const srv = await listen(
      health.handler({
        paths: { quick: '/hc', live: '' },
        fallback: (_req, res) => void res.writeHead(418).end(),
      }),
    );
    closers.push(srv.close);
    expect((await fetch(`${srv.url}/hc`)).status).toBe(200);
    expect((await fetch(`${srv.url}/livez`)).status).toBe(418);
    const head = await fetch(`${srv.url}/health/full`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('a request target that is no URL gets a 404, never a throw out of the listener', async () => {
    const health = makeHealth({ down: false, runs: 0 });
    const srv = await listen(health.handler());
    closers.push(srv.close);
    const raw = (target: string) =>
      new Promise<number>((resolve, reject) => {
        request({ host: '127.0.0.1', port: new URL(srv.url).port, path: target }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
          .on('error', reject)
          .end();
      });
    expect(await raw('//')).toBe(404);
    expect(await raw('//health')).toBe(404);
    expect(await raw('/health?format=simple')).toBe(200);
  });

  it('a probe storm of 1,000 concurrent requests runs each check once per `cache` window', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const runs = { database: 0, search: 0 };
    const health = createHealth({
      checks: {
        database: async () => {
          runs.database++;
          await sleep(50);
        },
        search: async () => {
          runs.search++;
          await sleep(20);
        },
      },
      quick: ['database'],
      cache: 2_000,
      clock: { now: () => now },
    });
    const srv = await listen(health.handler());
    closers.push(srv.close);
    const agent = new Agent({ keepAlive: true, maxSockets: 200 });
    const get = (path: string) =>
      new Promise<number>((resolve, reject) => {
        request(`${srv.url}${path}`, { agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        })
          .on('error', reject)
          .end();
      });
    const storm = (path: string) => Promise.all(Array.from({ length: 1_000 }, () => get(path)));
    try {
      const first = await storm('/health');
      expect(first.filter((s) => s === 200)).toHaveLength(1_000);
      expect(runs).toEqual({ database: 1, search: 0 });
      now += 1_999; // still inside the cache window
      await storm('/health');
      expect(runs).toEqual({ database: 1, search: 0 });
      now += 2; // the window has passed: one more run for the whole storm
      await Promise.all([storm('/health'), storm('/health/full')]);
      expect(runs).toEqual({ database: 3, search: 1 }); // quick and full are cached apart
    } finally {
      agent.destroy();
    }
  });
});

describe('framework adapters', () => {
  it('fetchHandler answers Web-standard Requests', async () => {
    const health = makeHealth({ down: false, runs: 0 });
    const res = await health.fetchHandler(new Request('http://svc/health/full'));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'healthy' });
    const ietf = await health.fetchHandler(
      new Request('http://svc/health', { headers: { accept: 'application/health+json' } }),
    );
    expect(ietf.headers.get('content-type')).toBe('application/health+json');
    expect((await health.fetchHandler(new Request('http://svc/other'))).status).toBe(404);
  });

  it('express middleware serves probes and passes other paths on', async () => {
    const db = { down: true, runs: 0 };
    const app = express();
    app.use(makeHealth(db).express());
    app.get('/hello', (_req, res) => {
      res.send('hi');
    });
    const srv = await listen(app);
    closers.push(srv.close);
    expect((await fetch(`${srv.url}/health`)).status).toBe(503);
    expect(await (await fetch(`${srv.url}/hello`)).text()).toBe('hi');
    expect((await fetch(`${srv.url}/readyz`)).status).toBe(503);
  });

  it('fastify plugin registers the probe routes', async () => {
    const app = Fastify();
    await app.register(makeHealth({ down: false, runs: 0 }).fastify);
    closers.push(() => app.close());
    const full = await app.inject({ method: 'GET', url: '/health/full' });
    expect(full.statusCode).toBe(200);
    expect(full.json()).toMatchObject({
      status: 'healthy',
      checks: { database: { status: 'ok' } },
    });
    const ietf = await app.inject({
      method: 'GET',
      url: '/health',
      headers: { accept: 'application/health+json' },
    });
    expect(ietf.headers['content-type']).toMatch(/^application\/health\+json/);
    expect(ietf.json()).toMatchObject({ status: 'pass' });
    expect((await app.inject({ method: 'GET', url: '/startupz' })).statusCode).toBe(200);
  });
});
