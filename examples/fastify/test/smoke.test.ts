import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Started, startApp, upload } from './start-app.js';

// The app started as its README says (`npm start`, i.e. the package's start script), on its
// embedded defaults: memory cache and rate limits, an in-memory key ring, files on a temporary
// disk root, alerts as JSON lines on stderr. Each request below is a real HTTP request.
const dir = resolve(import.meta.dirname, '..');
const SHUTDOWN_DELAY_MS = 1_000;
const DRAIN_TIMEOUT_MS = 5_000;
const root = mkdtempSync(join(tmpdir(), 'example-fastify-'));
let app: Started;
const statuses: [string, number][] = [];
const issuedTokens: string[] = [];

beforeAll(async () => {
  const start = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).scripts.start;
  app = await startApp(dir, start, {
    STORAGE_ROOT: root,
    SHUTDOWN_DELAY: `${SHUTDOWN_DELAY_MS}ms`,
    DRAIN_TIMEOUT: `${DRAIN_TIMEOUT_MS}ms`,
  });
}, 20_000);
afterAll(async () => {
  await app?.kill();
  rmSync(root, { recursive: true, force: true });
});

/** fetch against the app, every status noted so the last test can check none was a 5xx. */
async function call(path: string, init?: RequestInit): Promise<Response> {
  const res = await fetch(`${app.base}${path}`, init);
  statuses.push([`${init?.method ?? 'GET'} ${path}`, res.status]);
  return res;
}
const json = (body: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});
type QuoteAnswer = {
  quote: { symbol: string; price: number | null };
  source: string;
  reason?: string;
  breaker: string;
};

describe('the Fastify example, started with its start script', () => {
  it('lists its routes and answers the health probes', async () => {
    const index = (await (await call('/')).json()) as { routes: string[] };
    expect(index.routes).toEqual(
      expect.arrayContaining(['GET /api/quotes/:symbol', 'PUT /files/:name', 'GET /health']),
    );
    for (const probe of ['/health', '/livez', '/readyz', '/startupz']) {
      expect((await call(probe)).status).toBe(200);
    }
    const full = (await (await call('/health/full')).json()) as { checks: object };
    expect(Object.keys(full.checks)).toEqual(
      expect.arrayContaining(['eventLoop', 'breakers', 'cache', 'storage', 'rateLimit']),
    );
    expect((await call('/health', { method: 'POST' })).status).toBe(404);
  });

  it('a quote comes from the upstream, then from the cache, with rate-limit headers', async () => {
    const first = await call('/api/quotes/acme');
    expect(first.headers.get('ratelimit-policy')).toBe('"api";q=30;w=60');
    const a = (await first.json()) as QuoteAnswer;
    expect(a).toMatchObject({ source: 'upstream', breaker: 'closed', quote: { symbol: 'ACME' } });
    const b = (await (await call('/api/quotes/ACME')).json()) as QuoteAnswer;
    expect(b).toMatchObject({ source: 'cache', quote: a.quote });
    expect((await call('/api/quotes/not-a-symbol')).status).toBe(400);
  });

  it('auth: a signed token opens /api/me, the JWKS is published, anything else is a 401', async () => {
    const issued = await call('/auth/token', json({ sub: 'ada' }));
    const { access_token: token } = (await issued.json()) as { access_token: string };
    issuedTokens.push(token);
    const me = await call('/api/me', { headers: { authorization: `Bearer ${token}` } });
    const claims = (await me.json()) as { sub: string; kid: string };
    expect(claims.sub).toBe('ada');
    for (const authorization of ['', 'Bearer nope', `Bearer ${token.slice(0, -4)}AAAA`]) {
      const refused = await call('/api/me', { headers: { authorization } });
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toContain('invalid_token');
    }
    const jwks = await call('/.well-known/jwks.json');
    const { keys } = (await jwks.json()) as { keys: { kid: string }[] };
    expect(keys.map((k) => k.kid)).toContain(claims.kid);
    const etag = jwks.headers.get('etag') ?? '';
    expect(
      (await call('/.well-known/jwks.json', { headers: { 'if-none-match': etag } })).status,
    ).toBe(304);
    expect((await call('/auth/token', json({ sub: 42 }))).status).toBe(400);
  });

  it('files: upload, download, a signed link; too large is a 413, a bad name a 400', async () => {
    const text = `quarterly report ✓ ${Date.now()}`;
    const put = await call('/files/report.txt', {
      method: 'PUT',
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: text,
    });
    expect(put.status).toBe(201);
    expect(await put.json()).toMatchObject({ key: 'report.txt', size: Buffer.byteLength(text) });
    const got = await call('/files/report.txt');
    expect(got.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await got.text()).toBe(text);

    const link = (await (await call('/files/report.txt/link')).json()) as { url: string };
    const signed = new URL(link.url); // on PUBLIC_URL, http://localhost:<PORT> by default
    expect(signed.pathname).toBe('/files/signed');
    const url = `${app.base}${signed.pathname}${signed.search}`;
    expect(await (await fetch(url)).text()).toBe(text);
    expect((await fetch(url.replace('report.txt', 'other.txt'))).status).toBe(403);

    const big = Buffer.alloc(1024 * 1024 + 1, 'x');
    expect(await upload(app.base, '/files/big.bin', [big])).toBe(413); // Content-Length
    const chunks = Array.from({ length: 20 }, () => Buffer.alloc(64 * 1024, 'y'));
    expect(await upload(app.base, '/files/big.bin', chunks, { chunked: true })).toBe(413);
    expect((await call('/files/big.bin')).status).toBe(404); // nothing half-written
    expect((await call('/files/missing.txt')).status).toBe(404);
    // Names the storage refuses: a backslash, a NUL, a `..` segment (sent raw: fetch would
    // resolve it away).
    expect((await call('/files/a%5Cb', { method: 'PUT', body: 'x' })).status).toBe(400);
    expect((await call('/files/a%00b')).status).toBe(400);
    const dots = await app.rawStatusLine(
      'PUT /files/%2e%2e HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx',
    );
    expect(dots).toMatch(/^HTTP\/1\.1 400 /);
  });

  it('malformed requests get a 4xx and the app stays up', async () => {
    const bad: [string, RequestInit | undefined, number][] = [
      ['/auth/token', { ...json({}), body: '{"sub": "ada"' }, 400],
      ['/auth/token', { ...json({}), body: '[1, 2' }, 400],
      ['/auth/token', json({ sub: 'x'.repeat(8_000) }), 413],
      ['/auth/token', { method: 'POST', body: 'sub=ada' }, 400],
      ['/chaos/upstream', { ...json({}), body: '{"failing": tru' }, 400],
      ['/chaos/upstream', json({ failing: 'yes' }), 400],
      ['/api/quotes/%E0%A4%A', undefined, 400],
      ['/files/%zz', undefined, 400],
      ['/no/such/route', undefined, 404],
    ];
    for (const [path, init, status] of bad) {
      const res = await call(path, init);
      expect({ path, status: res.status }).toEqual({ path, status });
    }
    for (const target of ['http://:99999/', '//', 'http://[::1/', '*', '/%zz']) {
      const line = await app.rawStatusLine(`GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`);
      expect(line).toMatch(/^HTTP\/1\.1 [234]\d\d /);
    }
    expect((await call('/livez')).status).toBe(200);
  });

  it('the failure switch opens the breaker: fallback answers, the cached quote still served, an alert', async () => {
    const flip = await call('/chaos/upstream', json({ failing: true }));
    expect(await flip.json()).toMatchObject({ failing: true });
    const answers: QuoteAnswer[] = [];
    for (const symbol of ['AAA', 'BBB', 'CCC', 'DDD', 'EEE']) {
      const res = await call(`/api/quotes/${symbol}`);
      expect(res.status).toBe(200);
      answers.push((await res.json()) as QuoteAnswer);
      if (answers.at(-1)?.reason === 'breaker open') break;
    }
    expect(answers[0]).toMatchObject({ source: 'fallback', reason: 'upstream failed' });
    expect(answers.at(-1)).toMatchObject({
      source: 'fallback',
      reason: 'breaker open',
      breaker: 'open',
      quote: { price: null },
    });
    const cached = (await (await call('/api/quotes/ACME')).json()) as QuoteAnswer;
    expect(cached).toMatchObject({ source: 'cache', breaker: 'open' });
    // The open breaker degrades the full report (reports are cached for 1 s).
    const report = async () => (await (await call('/health/full')).json()) as { status: string };
    await expect.poll(async () => (await report()).status, { timeout: 3_000 }).toBe('degraded');
    await expect.poll(() => app.stderr, { timeout: 2_000 }).toContain('"circuit_breaker"');
    expect(app.stderr).toContain('quotes-upstream');
  });

  it('the api tier, once spent, answers 429 with Retry-After', async () => {
    let refused: Response | undefined;
    for (let i = 0; i < 40 && !refused; i++) {
      const res = await call('/api/quotes/ACME');
      if (res.status === 429) refused = res;
    }
    expect(refused?.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await refused?.json()).toMatchObject({ code: 'ERR_RATE_LIMIT_LIMITED' });
  });

  it('no answer was a 5xx, nothing failed on the server, no token was logged', () => {
    expect(statuses.filter(([, status]) => status >= 500)).toEqual([]);
    expect(app.stdout).not.toContain('"level":50'); // Fastify's logger: errors are level 50
    expect(issuedTokens.length).toBeGreaterThan(0);
    for (const token of issuedTokens) expect(app.stdout + app.stderr).not.toContain(token);
  });

  it('SIGTERM: readiness fails, the server stops accepting, an upload in flight finishes, a clean exit', async () => {
    const started = performance.now();
    const inFlight = app.openUpload('/files/during-shutdown.txt');
    inFlight.write('sent before SIGTERM, ');
    await new Promise((r) => setTimeout(r, 100));
    app.child.kill('SIGTERM');
    const status = (path: string) =>
      fetch(`${app.base}${path}`).then(
        (r) => r.status,
        () => 'refused',
      );
    // Readiness fails first (for SHUTDOWN_DELAY), so the load balancer stops sending traffic…
    await expect.poll(() => status('/readyz'), { timeout: 3_000, interval: 50 }).toBe(503);
    // …then the server stops accepting, while the upload in flight may finish (drain).
    await expect.poll(() => status('/livez'), { timeout: 3_000, interval: 50 }).toBe('refused');
    inFlight.end('and after it');
    expect(await inFlight.status).toBe(201);
    const stored = readFileSync(join(root, 'uploads', 'during-shutdown.txt'), 'utf8');
    expect(stored).toBe('sent before SIGTERM, and after it');
    const { code, signal } = await app.exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(performance.now() - started).toBeLessThan(SHUTDOWN_DELAY_MS + DRAIN_TIMEOUT_MS + 3_000);
    expect(app.stdout).toContain('stopped cleanly');
  });
});
