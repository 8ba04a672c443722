import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { RequestListener } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Started, startApp, startScript, upload } from './example-app.js';
import { fuzzHttpHandler, fuzzJunk } from './http-fuzz.js';
import { freePort } from './net.js';

// The test suites every example app (examples/*) passes: each example's test files call these
// with the app's folder and name and what differs between the frameworks. Each suite registers
// its own hooks and `describe` block, so call one per test file, at its top level.

/** What a suite needs to know about an example app. */
export interface ExampleApp {
  /** The app's package folder (the one with its package.json and `start` script). */
  readonly dir: string;
  /** The framework's name as the test titles say it: `Express`, `Fastify`. */
  readonly name: string;
}

/** What {@link smokeSuite} needs beside {@link ExampleApp}. */
export interface SmokeOptions extends ExampleApp {
  /** The status of a POST to the GET-only `/health` (405 in Express, 404 in Fastify). */
  readonly wrongMethodStatus: number;
  /** What the app writes, and where, when a request failed on the server. */
  readonly failureLine: { readonly stream: 'stdout' | 'stderr'; readonly text: string };
}

/** The app made in-process for {@link fuzzSuite}. */
export interface FuzzApp {
  /** The framework's request handling, served by the fuzz runner. */
  readonly listener: RequestListener;
  close(): Promise<unknown> | unknown;
}

/** What {@link fuzzSuite} needs beside {@link ExampleApp}. */
export interface FuzzOptions extends ExampleApp {
  readonly fuzz: {
    /**
     * Makes the app with these settings. `log` takes what the app logs as a failure (its
     * logger's error lines); anything given to it fails the run.
     */
    createTarget(settings: {
      env: Record<string, string>;
      publicUrl: string;
      shutdownDelay: number;
      log: (entry: unknown) => void;
    }): Promise<FuzzApp>;
    /** Whether the app reports failures with `console.error` (caught and failing the run). */
    readonly spyConsoleError?: boolean;
  };
}

const slug = (name: string) => name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
const pick = <T>(...xs: T[]) => fc.constantFrom(...xs);

/**
 * The app started as its README says (`npm start`, i.e. the package's start script), on its
 * embedded defaults: memory cache and rate limits, an in-memory key ring, files on a temporary
 * disk root, alerts as JSON lines on stderr. Each request is a real HTTP request.
 */
export function smokeSuite(app_: SmokeOptions): void {
  const { dir } = app_;
  const SHUTDOWN_DELAY_MS = 1_000;
  const DRAIN_TIMEOUT_MS = 5_000;
  const root = mkdtempSync(join(tmpdir(), `example-${slug(app_.name)}-`));
  let app: Started;
  const statuses: [string, number][] = [];
  const issuedTokens: string[] = [];

  beforeAll(async () => {
    app = await startApp(dir, startScript(dir), {
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

  describe(`the ${app_.name} example, started with its start script`, () => {
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
      expect((await call('/health', { method: 'POST' })).status).toBe(app_.wrongMethodStatus);
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
      expect(app[app_.failureLine.stream]).not.toContain(app_.failureLine.text);
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
      expect(performance.now() - started).toBeLessThan(
        SHUTDOWN_DELAY_MS + DRAIN_TIMEOUT_MS + 3_000,
      );
      expect(app.stdout).toContain('stopped cleanly');
    });
  });
}

/**
 * With REDIS_URL (and KEYRING_ENCRYPTION_KEY) set, two instances of the app share the cache,
 * the rate limits and the key ring, with no change to the code. The suite runs a redis-server of
 * its own, so the machine's Redis keeps none of its keys.
 */
export function redisSuite(app_: ExampleApp): void {
  const { dir } = app_;
  const hasRedis = (() => {
    try {
      execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  if (!hasRedis && process.env.CI === 'true') {
    throw new Error('redis-server is not on the PATH; CI needs it');
  }
  if (!hasRedis) console.warn('redis.test.ts skipped: redis-server is not on the PATH');

  const root = mkdtempSync(join(tmpdir(), `example-${slug(app_.name)}-redis-`));
  let redis: ReturnType<typeof spawn> | undefined;
  let a: Started;
  let b: Started;

  beforeAll(async () => {
    if (!hasRedis) return;
    const port = await freePort();
    redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', ''], {
      stdio: 'ignore',
    });
    await waitForPort(port);
    const start = startScript(dir);
    const env = {
      REDIS_URL: `redis://127.0.0.1:${port}`,
      KEYRING_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      STORAGE_ROOT: root,
      SHUTDOWN_DELAY: '100ms',
    };
    [a, b] = await Promise.all([startApp(dir, start, env), startApp(dir, start, env)]);
  }, 20_000);
  afterAll(async () => {
    await Promise.all([a?.kill(), b?.kill()]);
    redis?.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });

  describe.skipIf(!hasRedis)(`two instances of the ${app_.name} example on one Redis`, () => {
    it('a token signed by one instance is accepted by the other (one key ring)', async () => {
      const issued = await fetch(`${a.base}/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sub: 'grace' }),
      });
      const { access_token: token } = (await issued.json()) as { access_token: string };
      const me = await fetch(`${b.base}/api/me`, { headers: { authorization: `Bearer ${token}` } });
      expect(me.status).toBe(200);
      expect(await me.json()).toMatchObject({ sub: 'grace' });
    });

    it('a quote loaded by one instance is served from the cache by the other', async () => {
      const first = (await (await fetch(`${a.base}/api/quotes/REDIS`)).json()) as object;
      expect(first).toMatchObject({ source: 'upstream' });
      const second = (await (await fetch(`${b.base}/api/quotes/REDIS`)).json()) as object;
      expect(second).toMatchObject({ source: 'cache' });
      const full = await (await fetch(`${b.base}/health/full`)).json();
      expect(full).toMatchObject({
        checks: { cache: { status: 'ok', details: { backend: 'redis' } } },
      });
    });

    it('the rate limit is counted across instances', async () => {
      const remaining = async (base: string) => {
        const res = await fetch(`${base}/api/quotes/REDIS`);
        return Number(/r=(\d+)/.exec(res.headers.get('ratelimit') ?? '')?.[1]);
      };
      const before = await remaining(a.base);
      for (let i = 0; i < 3; i++) await remaining(b.base);
      // 4 requests since `before`: counted apart, `a` would show before - 1.
      expect(await remaining(a.base)).toBeLessThanOrEqual(before - 3);
    });

    it('both shut down cleanly on SIGTERM', async () => {
      a.child.kill('SIGTERM');
      b.child.kill('SIGTERM');
      const exits = await Promise.all([a.exited, b.exited]);
      expect(exits).toEqual([
        { code: 0, signal: null },
        { code: 0, signal: null },
      ]);
    });
  });
}

/**
 * With AWS_S3_BUCKET set, files go to S3 (here moto_server, an S3 of the suite's own), with no
 * change to the code: uploads, downloads, the size limit, and links presigned by S3 itself.
 */
export function s3Suite(app_: ExampleApp): void {
  const { dir } = app_;
  const hasMoto = (() => {
    try {
      execFileSync('sh', ['-c', 'command -v moto_server'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  if (!hasMoto && process.env.CI === 'true') {
    throw new Error('moto_server is not on the PATH; CI needs it');
  }
  if (!hasMoto) console.warn('s3.test.ts skipped: moto_server is not on the PATH');

  let moto: ReturnType<typeof spawn> | undefined;
  let app: Started;

  beforeAll(async () => {
    if (!hasMoto) return;
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    moto = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
      stdio: 'ignore',
      detached: true, // its own process group: moto_server may run python as a child
    });
    const deadline = Date.now() + 15_000;
    for (;;) {
      const ok = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1_000) }).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (Date.now() > deadline) throw new Error('moto_server did not come up within 15 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await fetch(`${endpoint}/example-files`, { method: 'PUT' })).status).toBe(200);
    app = await startApp(dir, startScript(dir), {
      AWS_S3_BUCKET: 'example-files',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      S3_ENDPOINT: endpoint,
      SHUTDOWN_DELAY: '100ms',
    });
  }, 30_000);
  afterAll(async () => {
    await app?.kill();
    if (moto?.pid !== undefined) process.kill(-moto.pid, 'SIGKILL');
  });

  describe.skipIf(!hasMoto)(`the ${app_.name} example with AWS_S3_BUCKET set`, () => {
    it('stores files in S3, serves them back, and hands out links S3 signed', async () => {
      const put = await fetch(`${app.base}/files/s3.txt`, {
        method: 'PUT',
        headers: { 'content-type': 'text/plain' },
        body: 'kept in S3',
      });
      expect(put.status).toBe(201);
      expect(await (await fetch(`${app.base}/files/s3.txt`)).text()).toBe('kept in S3');
      const { url } = (await (await fetch(`${app.base}/files/s3.txt/link`)).json()) as {
        url: string;
      };
      expect(url).toContain('X-Amz-Signature=');
      expect(await (await fetch(url)).text()).toBe('kept in S3');
      const full = await (await fetch(`${app.base}/health/full`)).json();
      expect(full).toMatchObject({
        checks: { storage: { status: 'ok', details: { backend: 's3' } } },
      });
    });

    it('the size limit holds for S3 too, and nothing is left behind', async () => {
      const chunks = Array.from({ length: 20 }, () => Buffer.alloc(64 * 1024, 'z'));
      expect(await upload(app.base, '/files/big.bin', chunks, { chunked: true })).toBe(413);
      expect((await fetch(`${app.base}/files/big.bin`)).status).toBe(404);
    });

    it('shuts down cleanly on SIGTERM', async () => {
      app.child.kill('SIGTERM');
      expect(await app.exited).toEqual({ code: 0, signal: null });
    });
  });
}

/** Seeded malformed requests against the app made in-process (see fuzzHttpHandler). */
export function fuzzSuite(app_: FuzzOptions): void {
  const root = mkdtempSync(join(tmpdir(), `example-${slug(app_.name)}-fuzz-`));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  describe(`the ${app_.name} example under malformed requests`, () => {
    it('never throws out of the listener, answers each with a status line, never a 5xx', async () => {
      // What the app logs as its own failure (`console.error` on a 500, or an error line of its
      // logger) fails the run too.
      const logged: unknown[] = [];
      const spy = app_.fuzz.spyConsoleError
        ? vi.spyOn(console, 'error').mockImplementation((...args) => void logged.push(args))
        : undefined;
      await fuzzHttpHandler({
        setup: async (port) => {
          const example = await app_.fuzz.createTarget({
            env: { STORAGE_ROOT: root },
            publicUrl: `http://127.0.0.1:${port}`,
            shutdownDelay: 0,
            log: (entry) => void logged.push(entry),
          });
          return {
            listener: example.listener,
            valid: [
              '/',
              '/api/quotes/ACME',
              '/api/me',
              '/auth/token',
              '/chaos/upstream',
              '/.well-known/jwks.json',
              '/files/report.txt',
              '/files/report.txt/link',
              '/files/signed?key=uploads%2Freport.txt&expires=1&method=GET&sig=x',
              '/health',
              '/health/full',
              '/readyz',
            ],
            close: () => example.close(),
          };
        },
        oddTargets: ['/files/%2e%2e', '/files/a%00b', '/api/quotes/%zz'],
        prefixes: ['/api/quotes/', '/files/', '/files/signed?key=', '/auth/', '/health/'],
        headers: [
          fc.tuple(
            pick('Content-Type'),
            fc.oneof(
              pick('application/json', 'text/plain', 'application/json; charset=latin9'),
              fuzzJunk,
            ),
          ),
          fc.tuple(
            pick('Authorization'),
            fc.oneof(pick('Bearer ', 'Bearer a.b.c', 'Basic x'), fuzzJunk),
          ),
          fc.tuple(
            pick('If-None-Match', 'Range'),
            fc.oneof(pick('*', 'W/"x"', 'bytes=0-1'), fuzzJunk),
          ),
        ],
        statuses: ['200', '400', '404'],
        numRuns: 1_000,
      }).finally(() => spy?.mockRestore());
      expect(logged).toEqual([]);
    }, 120_000);
  });
}

function waitForPort(port: number, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve();
      });
      socket.on('error', () => {
        if (Date.now() > deadline) reject(new Error(`redis-server did not listen on ${port}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}
