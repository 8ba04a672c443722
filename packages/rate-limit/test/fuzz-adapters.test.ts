import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { createRateLimiter, defineTiers } from '@org/rate-limit';
import { rateLimitExpress } from '@org/rate-limit/express';
import { rateLimitFastify } from '@org/rate-limit/fastify';
import { rateLimitHono, withRateLimit } from '@org/rate-limit/web';
import { fuzzHttpHandler, fuzzJunk } from '@org/test-utils';
import express from 'express';
import fc from 'fast-check';
import Fastify from 'fastify';
import { describe, it } from 'vitest';

const pick = <T>(...xs: T[]) => fc.constantFrom(...xs);

// Reads are plentiful, writes run out after three per client: both answers are seen.
const tiers = defineTiers({
  read: { limit: 10_000, window: '1m' },
  write: { limit: 3, window: '1m', algorithm: 'token-bucket' },
  login: { limit: 2, window: '1m', algorithm: 'fixed-window', blockFor: '1m' },
});
const tierOf = (req: { method?: string | undefined; url?: string | undefined }) => {
  if (req.url?.startsWith('/health')) return undefined;
  if (req.url?.startsWith('/login')) return 'login';
  return req.method === 'GET' || req.method === 'HEAD' ? 'read' : 'write';
};

const valid = ['/items', '/items?page=2', '/login', '/health', '/items/%E2%9C%93'];
const headers = [
  fc.tuple(
    pick('X-Forwarded-For', 'x-forwarded-for'),
    fc.oneof(
      pick(
        '203.0.113.9',
        '203.0.113.9, 10.0.0.1',
        '2001:db8::1',
        '[2001:db8::1]:443',
        ', ,',
        '',
        'unknown',
        `${'1.2.3.4,'.repeat(400)}5.6.7.8`,
      ),
      fuzzJunk,
    ),
  ),
  fc.tuple(
    pick('Forwarded'),
    fc.oneof(
      pick('for=192.0.2.60;proto=http', 'for="[2001:db8::1]:80"', 'for=', 'for="'),
      fuzzJunk,
    ),
  ),
  fc.tuple(pick('Content-Type'), fc.oneof(pick('application/json', 'text/plain'), fuzzJunk)),
  fc.tuple(pick('X-Api-Key'), fuzzJunk),
];
const common = {
  oddTargets: ['/items?%', '/login/%zz'],
  prefixes: ['/', '/items/', 'http://127.0.0.1/items?q='],
  headers,
};

/** A Web `Request` from a Node request, as @hono/node-server and Next.js build it. */
function toRequest(req: IncomingMessage): Request {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const h = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    try {
      h.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
    } catch {
      // A header the Fetch API cannot hold is left out, as those servers do.
    }
  }
  const method = req.method ?? 'GET';
  const body =
    method === 'GET' || method === 'HEAD'
      ? null
      : (Readable.toWeb(req) as unknown as ReadableStream<Uint8Array>);
  return new Request(url, { method, headers: h, body, duplex: 'half' } as RequestInit);
}

/** Serves a fetch-style handler on a Node listener; what cannot become a Request is a 400. */
function nodeListener(handle: (request: Request) => Promise<Response>) {
  return async (req: IncomingMessage, res: ServerResponse) => {
    let request: Request;
    try {
      request = toRequest(req);
    } catch {
      res.writeHead(400).end();
      return;
    }
    const response = await handle(request);
    res.writeHead(response.status, [...response.headers]);
    res.end(Buffer.from(await response.arrayBuffer()));
  };
}

const answer = (request: Request) => {
  const { pathname } = new URL(request.url);
  if (pathname === '/items' || pathname === '/login' || pathname === '/health') {
    return Response.json({ ok: true });
  }
  return Response.json({ error: 'not found' }, { status: 404 });
};

describe('rate-limit adapters under malformed requests', () => {
  it('Express: no throw, no 5xx, a status line for each, memory flat', async () => {
    await fuzzHttpHandler({
      ...common,
      setup: () => {
        const limiter = createRateLimiter({ tiers });
        const app = express();
        app.set('trust proxy', 1); // req.ip from the last X-Forwarded-For hop
        app.use(rateLimitExpress(limiter, { tier: tierOf }));
        app.all(['/items', '/login', '/health'], (_req, res) => void res.json({ ok: true }));
        app.use((_req, res) => void res.status(404).json({ error: 'not found' }));
        return { listener: app, valid, close: () => limiter.close() };
      },
      statuses: ['200', '404', '429'],
    });
  }, 120_000);

  it('Fastify: no throw, no 5xx, a status line for each, memory flat', async () => {
    await fuzzHttpHandler({
      ...common,
      setup: async () => {
        const limiter = createRateLimiter({ tiers });
        let listener: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
        const app = Fastify({
          trustProxy: '127.0.0.1', // the fuzz's own address is the proxy
          serverFactory: (handler) => {
            listener = handler;
            return createServer(handler);
          },
        });
        app.addHook('onRequest', rateLimitFastify(limiter, { tier: tierOf }));
        for (const url of ['/items', '/login', '/health']) {
          app.route({
            method: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
            url,
            handler: async () => ({ ok: true }),
          });
        }
        await app.ready();
        if (!listener) throw new Error('Fastify did not hand over its request listener');
        return {
          listener,
          valid,
          close: async () => {
            await app.close();
            await limiter.close();
          },
        };
      },
      statuses: ['200', '404', '429'],
    });
  }, 120_000);

  it('fetch (withRateLimit, client from X-Forwarded-For): no throw, no 5xx, memory flat', async () => {
    await fuzzHttpHandler({
      ...common,
      setup: () => {
        const limiter = createRateLimiter({ tiers });
        const handle = withRateLimit(
          limiter,
          {
            tier: (r: Request) => tierOf({ method: r.method, url: new URL(r.url).pathname }),
            trustProxy: true,
          },
          answer,
        );
        return { listener: nodeListener(handle), valid, close: () => limiter.close() };
      },
      // 400 also: no X-Forwarded-For, so no client to count.
      statuses: ['200', '400', '404', '429'],
    });
  }, 120_000);

  it('Hono-style middleware (client from an API key header): no throw, no 5xx, memory flat', async () => {
    await fuzzHttpHandler({
      ...common,
      setup: () => {
        const limiter = createRateLimiter({ tiers });
        const mw = rateLimitHono(limiter, {
          tier: (r: Request) => tierOf({ method: r.method, url: new URL(r.url).pathname }),
          key: (r: Request) =>
            r.headers.get('x-api-key') ?? new URL(r.url).searchParams.get('q') ?? 'anonymous',
        });
        const handle = async (request: Request): Promise<Response> => {
          const set = new Headers();
          let out: Response | undefined;
          const early = await mw(
            { req: { raw: request }, header: (k, v) => set.set(k, v) },
            async () => {
              out = answer(request);
            },
          );
          const res = early ?? out ?? new Response(null, { status: 404 });
          for (const [k, v] of set) res.headers.set(k, v);
          return res;
        };
        return { listener: nodeListener(handle), valid, close: () => limiter.close() };
      },
      statuses: ['200', '404', '429'],
    });
  }, 120_000);
});
