import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRateLimiter, defineTiers, rateLimitHeaders, rateLimitNode } from '@org/rate-limit';
import { rateLimitExpress } from '@org/rate-limit/express';
import { rateLimitFastify } from '@org/rate-limit/fastify';
import { rateLimitHono, rateLimitWeb, withRateLimit } from '@org/rate-limit/web';
import express from 'express';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';

const tiers = defineTiers({ read: { limit: 2, window: '1m' }, write: { limit: 1, window: '1m' } });
const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

async function listen(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function expectLimited(base: string, path = '/') {
  const a = await fetch(`${base}${path}`);
  expect(a.status).toBe(200);
  expect(a.headers.get('ratelimit-policy')).toBe('"read";q=2;w=60');
  expect(a.headers.get('ratelimit')).toMatch(/^"read";r=1;t=\d+$/);
  expect((await fetch(`${base}${path}`)).status).toBe(200);
  const c = await fetch(`${base}${path}`);
  expect(c.status).toBe(429);
  expect(Number(c.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  expect(await c.json()).toMatchObject({ code: 'ERR_RATE_LIMIT_LIMITED' });
}

describe('HTTP adapters', () => {
  it('node:http: 429 with Retry-After and the draft headers', async () => {
    const guard = rateLimitNode(createRateLimiter({ tiers }), { tier: 'read' });
    const base = await listen(
      createServer(async (req, res) => {
        if (!(await guard(req, res))) return;
        res.end('ok');
      }),
    );
    await expectLimited(base);
  });

  it('node:http: an unreadable client gets a 400, a throwing key function too, never a crash', async () => {
    const limiter = createRateLimiter({ tiers });
    const noKey = rateLimitNode(limiter, { tier: 'read', key: () => undefined });
    const throws = rateLimitNode(limiter, {
      tier: 'read',
      key: () => {
        throw new Error('bad header');
      },
    });
    const base = await listen(
      createServer(async (req, res) => {
        const guard = req.url === '/throws' ? throws : noKey;
        if (!(await guard(req, res))) return;
        res.end('ok');
      }),
    );
    const a = await fetch(`${base}/`);
    expect(a.status).toBe(400);
    expect(await a.json()).toMatchObject({ code: 'ERR_RATE_LIMIT_NO_KEY' });
    expect((await fetch(`${base}/throws`)).status).toBe(500);
  });

  it('Redis down with failurePolicy closed: 503 with its own code, not 429', async () => {
    const limiter = createRateLimiter({
      tiers: { read: { limit: 2, window: '1m', failurePolicy: 'closed' } },
      redis: 'redis://127.0.0.1:1', // nothing listens there
      timeout: 50,
    });
    const guard = rateLimitNode(limiter, { tier: 'read' });
    const base = await listen(
      createServer(async (req, res) => {
        if (!(await guard(req, res))) return;
        res.end('ok');
      }),
    );
    const r = await fetch(base);
    expect(r.status).toBe(503);
    expect(await r.json()).toMatchObject({ code: 'ERR_RATE_LIMIT_UNAVAILABLE' });
    await limiter.close();
  });

  it('Express 5: req.ip is the client, refused requests never reach the route', async () => {
    const app = express();
    app.use(rateLimitExpress(createRateLimiter({ tiers }), { tier: 'read' }));
    let reached = 0;
    app.get('/', (_req, res) => {
      reached++;
      res.send('ok');
    });
    const base = await listen(createServer(app));
    await expectLimited(base);
    expect(reached).toBe(2);
  });

  it('Fastify 5: an onRequest hook', async () => {
    const app = Fastify();
    app.addHook('onRequest', rateLimitFastify(createRateLimiter({ tiers }), { tier: 'read' }));
    app.get('/', async () => 'ok');
    await app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    try {
      await expectLimited(base);
    } finally {
      await app.close();
    }
  });

  it('Web Request: withRateLimit wraps a route handler; a key is required', async () => {
    const limiter = createRateLimiter({ tiers });
    expect(() => rateLimitWeb(limiter, { tier: 'read' })).toThrow(/key/);
    const GET = withRateLimit(
      limiter,
      { tier: 'read', trustProxy: 1 },
      async () => new Response('ok'),
    );
    const req = () => new Request('http://x/', { headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect((await GET(req())).headers.get('ratelimit')).toMatch(/r=1/);
    await GET(req());
    const refused = await GET(req());
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBeTruthy();
    // Another client is counted apart.
    const other = new Request('http://x/', { headers: { 'x-forwarded-for': '203.0.113.10' } });
    expect((await GET(other)).status).toBe(200);
  });

  it('Hono-style middleware: short-circuits with a Response', async () => {
    const mw = rateLimitHono(createRateLimiter({ tiers }), { tier: 'write', key: () => 'k' });
    const headers = new Map<string, string>();
    const c = {
      req: { raw: new Request('http://x/') },
      header: (k: string, v: string) => headers.set(k, v),
    };
    let nexts = 0;
    expect(await mw(c, async () => void nexts++)).toBeUndefined();
    const second = await mw(c, async () => void nexts++);
    expect(second?.status).toBe(429);
    expect(nexts).toBe(1);
    expect(headers.get('ratelimit-policy')).toBe('"write";q=1;w=60');
  });

  it('legacy X-RateLimit-* headers on request', () => {
    const h = Object.fromEntries(
      rateLimitHeaders(
        {
          allowed: false,
          tier: 'read',
          limit: 120,
          windowMs: 60_000,
          remaining: 0,
          resetMs: 30_000,
          retryAfterMs: 30_000,
          store: 'memory',
        },
        'legacy',
        1_000_000,
      ),
    );
    expect(h).toEqual({
      'X-RateLimit-Limit': '120',
      'X-RateLimit-Remaining': '0',
      'X-RateLimit-Reset': '1030',
      'Retry-After': '30',
    });
  });
});
