import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  alertsShutdown,
  attachBreakerAlerts,
  attachHealthAlerts,
  attachRateLimitAlerts,
  createAlertsFromEnv,
} from '@org/alerts';
import { createCache } from '@org/cache';
import {
  breakersCheck,
  createHealth,
  dependencyCheck,
  diskCheck,
  eventLoopCheck,
  type Health,
  type HealthOptions,
  memoryCheck,
} from '@org/health';
import { createRotationSchedule, isKeyRotationError } from '@org/key-rotation';
import { createRateLimiter, defineTiers } from '@org/rate-limit';
import { rateLimitExpress } from '@org/rate-limit/express';
import { breakers, createBreaker, isBreakerOpenError, isTimeoutError } from '@org/resilience';
import { createStorageFromEnv, isStorageError } from '@org/storage';
import express, { type ErrorRequestHandler, type Express } from 'express';
import { isPayloadTooLarge, limitBody } from './body-limit.js';
import { createKeyRingFor } from './key-ring.js';
import { createQuotesUpstream, type QuotesUpstream, UpstreamError } from './upstream.js';

/** What `createApp` takes; `main.ts` fills it from the environment. Every field is optional. */
export interface AppOptions {
  /** Redis for the cache, the rate limits and (with KEYRING_ENCRYPTION_KEY) the key ring. @default memory */
  redisUrl?: string | undefined;
  /**
   * Where the storage and key-ring variables are read (`AWS_S3_BUCKET`, `STORAGE_ROOT`,
   * `STORAGE_SIGNING_SECRET`, `KEYRING_ENCRYPTION_KEY`…). @default process.env
   */
  env?: Record<string, string | undefined> | undefined;
  /** The address clients reach this app at, for signed download links. @default 'http://localhost:3000' */
  publicUrl?: string | undefined;
  /** Mount `POST /chaos/upstream`, the upstream's failure switch (never in production). @default true */
  chaos?: boolean | undefined;
  /** Largest upload `PUT /files/:name` takes, in bytes. @default 1 MiB */
  maxUploadBytes?: number | undefined;
  /** How long readiness fails before the server stops accepting, at shutdown. @default '5s' */
  shutdownDelay?: HealthOptions['shutdownDelay'];
  /** How long in-flight requests may take to finish at shutdown. @default '10s' */
  drainTimeout?: HealthOptions['drainTimeout'];
}

/** The built app: mount it with `listen`, attach its server to `health`, shut down through it. */
export interface ExampleApp {
  app: Express;
  health: Health;
  upstream: QuotesUpstream;
  /** Releases everything the app holds (run by `health.shutdown()` after draining). */
  close(): Promise<void>;
}

const SYMBOL = /^[A-Z]{1,5}$/;
const SUBJECT = /^[\w.@-]{1,64}$/;

/** This app's rate-limit tiers: its own numbers (the package has none built in). */
const tiers = defineTiers({
  api: { limit: 30, window: '1m' },
  auth: { limit: 10, window: '1m', algorithm: 'fixed-window', blockFor: '5m' },
  files: { limit: 20, window: '1m', algorithm: 'token-bucket' },
});

/** Builds the Express app on the SDK's embedded defaults; `listen` is the caller's (main.ts). */
export async function createApp(options: AppOptions = {}): Promise<ExampleApp> {
  const env = options.env ?? process.env;
  const redis = options.redisUrl || undefined;
  const publicUrl = (options.publicUrl ?? 'http://localhost:3000').replace(/\/+$/, '');
  const maxUploadBytes = options.maxUploadBytes ?? 1024 * 1024;
  const app = express();
  app.disable('x-powered-by');

  // #region alerts
  // SENTRY_DSN set: to Sentry (a client of the package's own); unset: JSON lines on stderr.
  const alerts = createAlertsFromEnv({ throttle: { max: 5, window: '1m' } }, env);
  // #endregion alerts

  // #region breaker-cache-ratelimit
  const limiter = createRateLimiter({ tiers, redis, prefix: 'example-express:rl:' });
  const cache = createCache({
    redis,
    namespace: 'example-express',
    presets: { quote: '30s' },
    grace: '10m', // a stale quote stands in while the upstream fails
  });
  const upstream = createQuotesUpstream();
  const quotes = createBreaker(
    async ({ signal }, symbol: string) => upstream.quote(symbol, signal),
    { name: 'quotes-upstream', failureThreshold: 3, resetTimeout: '10s', timeout: '2s' },
  );

  app.get('/api/quotes/:symbol', rateLimitExpress(limiter, { tier: 'api' }), async (req, res) => {
    const symbol = String(req.params.symbol).toUpperCase();
    if (!SYMBOL.test(symbol)) {
      res.status(400).json({ error: 'the symbol is 1 to 5 letters' });
      return;
    }
    let source: 'cache' | 'upstream' | 'fallback' = 'cache';
    try {
      const quote = await cache.getOrSet(
        `quote:${symbol}`,
        async ({ signal }) => {
          const fresh = await quotes.fireWith({ signal }, symbol);
          source = 'upstream';
          return fresh;
        },
        { ttl: 'quote' },
      );
      res.json({ quote, source, breaker: quotes.state });
    } catch (err) {
      // Nothing cached, and the upstream failing or its breaker open: the fallback answer.
      if (!isBreakerOpenError(err) && !isTimeoutError(err) && !(err instanceof UpstreamError)) {
        throw err;
      }
      source = 'fallback';
      const reason = isBreakerOpenError(err) ? 'breaker open' : 'upstream failed';
      res.json({ quote: { symbol, price: null }, source, reason, breaker: quotes.state });
    }
  });

  if (options.chaos ?? true) {
    // The failure switch: `{ "failing": true }` makes every upstream call fail.
    app.post('/chaos/upstream', express.json({ limit: '1kb' }), (req, res) => {
      const failing = (req.body as { failing?: unknown } | undefined)?.failing;
      if (typeof failing !== 'boolean') {
        res.status(400).json({ error: 'send {"failing": true|false} as application/json' });
        return;
      }
      upstream.failing = failing;
      res.json({ failing, breaker: quotes.state });
    });
  }
  // #endregion breaker-cache-ratelimit

  // #region auth
  const ring = await createKeyRingFor({ redis, env, issuer: 'example-express' });
  const schedule = createRotationSchedule(ring.ring, { interval: '30d' }).start();

  // A demo issuer: in your app, sign after a real login.
  app.post(
    '/auth/token',
    rateLimitExpress(limiter, { tier: 'auth' }),
    express.json({ limit: '4kb' }),
    async (req, res) => {
      const sub = (req.body as { sub?: unknown } | undefined)?.sub;
      if (typeof sub !== 'string' || !SUBJECT.test(sub)) {
        res.status(400).json({ error: 'send {"sub": "<1-64 of A-Z a-z 0-9 _ . @ ->"} as JSON' });
        return;
      }
      const token = await ring.ring.sign(
        { scope: 'quotes:read' },
        { subject: sub, expiresIn: '15m' },
      );
      res.json({ access_token: token, token_type: 'Bearer', expires_in: 900 });
    },
  );

  app.get('/api/me', rateLimitExpress(limiter, { tier: 'api' }), async (req, res) => {
    const token = /^Bearer ([\w.-]+)$/i.exec(req.get('authorization') ?? '')?.[1] ?? '';
    try {
      const { payload, key } = await ring.ring.verify(token);
      res.json({ sub: payload.sub, scope: payload.scope, exp: payload.exp, kid: key.kid });
    } catch (err) {
      if (!isKeyRotationError(err)) throw err;
      res.set('www-authenticate', 'Bearer error="invalid_token"');
      res.status(401).json({ error: 'a valid bearer token is required', code: err.code });
    }
  });

  // The public keys, with Cache-Control, an ETag and 304s: what other services verify with.
  app.get('/.well-known/jwks.json', ring.ring.jwksHandler({ maxAge: '5m' }));
  // #endregion auth

  // #region upload
  // AWS_S3_BUCKET set: S3 or R2; unset: files under STORAGE_ROOT (./data by default).
  const storage = createStorageFromEnv(env, {
    namespaces: ['uploads'],
    signing: { baseUrl: `${publicUrl}/files/signed`, keyInQuery: true },
  });
  const uploads = storage.namespace('uploads');
  const filesLimit = rateLimitExpress(limiter, { tier: 'files' });

  if (storage.backend === 'local') {
    // Serves the local disk's signed links (S3 and R2 serve their own).
    const signed = storage.handler();
    app.get('/files/signed', (req, res, next) => void signed(req, res, next));
  }

  app.put('/files/:name', filesLimit, async (req, res) => {
    if (Number(req.get('content-length') ?? 0) > maxUploadBytes) {
      // Refused before reading: the unread body makes the connection unusable.
      res.set('connection', 'close');
      res.status(413).json({ error: `the upload is larger than ${maxUploadBytes} bytes` });
      return;
    }
    try {
      const saved = await uploads.put(String(req.params.name), limitBody(req, maxUploadBytes), {
        contentType: req.get('content-type') ?? 'application/octet-stream',
      });
      res.status(201).json(saved);
    } catch (err) {
      // The client went away mid-upload: nothing was stored, and nobody is left to answer.
      if (req.readableAborted && !isPayloadTooLarge(err)) return void res.destroy();
      throw err;
    }
  });

  app.get('/files/:name', filesLimit, async (req, res) => {
    const name = String(req.params.name);
    const info = await uploads.head(name);
    const body: Readable = await uploads.getStream(name);
    res.set({
      'content-type': info.contentType ?? 'application/octet-stream',
      'content-length': String(info.size),
      'x-content-type-options': 'nosniff',
      'content-disposition': 'attachment',
    });
    // A client that leaves mid-download (or a read failing after the headers went out) ends
    // the response early: nothing is left to answer, and nothing needs logging.
    await pipeline(body, res).catch(() => undefined);
  });

  app.get('/files/:name/link', filesLimit, async (req, res) => {
    const url = await uploads.signedUrl(String(req.params.name), { expiresIn: '5m' });
    res.json({ url, expiresInS: 300 });
  });
  // #endregion upload

  // #region health
  const health = createHealth({
    checks: {
      eventLoop: eventLoopCheck(),
      memory: memoryCheck(),
      disk: diskCheck(),
      breakers: breakersCheck({ registry: breakers }), // an open breaker degrades the report
      cache: dependencyCheck(cache, { critical: false }),
      storage: dependencyCheck(storage, { critical: false }),
      rateLimit: { check: limiter.check, critical: false },
    },
    quick: ['eventLoop'], // GET /health, what the load balancer polls
    serviceId: 'example-express',
    shutdownDelay: options.shutdownDelay ?? '5s',
    drainTimeout: options.drainTimeout ?? '10s',
  });
  // GET /health, /health/full, /livez, /readyz, /startupz; other paths go on to next().
  app.use(health.express());
  // #endregion health

  // Breakers opening, one client hammering a tier, a critical check failing: alerts.
  const detach = [
    attachBreakerAlerts(quotes, alerts),
    attachRateLimitAlerts(limiter, alerts),
    attachHealthAlerts(health, alerts),
  ];

  app.get('/', (_req, res) => {
    const probes = ['/health', '/health/full', '/livez', '/readyz', '/startupz'];
    res.json({ routes: [...routesOf(app), ...probes.map((p) => `GET ${p}`)] });
  });

  // #region errors
  app.use((_req, res) => {
    res.status(404).json({ error: 'not found', see: 'GET /' });
  });
  // What a client got wrong is a 4xx with a reason; anything else a 500 that leaks nothing.
  const errors: ErrorRequestHandler = (err, req, res, next) => {
    if (res.headersSent) return next(err);
    const status = clientStatus(err);
    if (status) {
      if (status === 413) res.set('connection', 'close');
      const code = status === 413 ? undefined : codeOf(err);
      res.status(status).json({ error: clientMessage(err, status), code });
      return;
    }
    console.error(`${req.method} ${req.path} failed:`, err);
    res.status(500).json({ error: 'internal error' });
  };
  app.use(errors);
  // #endregion errors

  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= (async () => {
      for (const off of detach) off();
      await schedule.close();
      await quotes.close();
      await cache.close();
      await limiter.close();
      await storage.close();
      await ring.close();
      await alertsShutdown(alerts, { timeout: '2s' })();
      await health.close();
    })();
    return closed;
  };
  health.onShutdown(close);
  return { app, health, upstream, close };
}

/** The status of an error a client caused, or undefined for the app's own failures. */
function clientStatus(err: unknown): number | undefined {
  if (isPayloadTooLarge(err)) return 413;
  if (isStorageError(err, 'ERR_STORAGE_NOT_FOUND')) return 404;
  if (isStorageError(err, 'ERR_STORAGE_INVALID_KEY')) return 400;
  if (isStorageError(err, 'ERR_STORAGE_INVALID_METADATA')) return 400;
  // body-parser's errors (bad JSON 400, too large 413, bad charset 415) carry their status.
  const status = (err as { status?: unknown } | null)?.status;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : undefined;
}

function clientMessage(err: unknown, status: number): string {
  if (status === 413) return 'the body is too large for this route';
  if (status === 404) return 'no such file';
  if (isStorageError(err)) return err.message;
  return (err as { type?: string }).type === 'entity.parse.failed'
    ? 'the body is not valid JSON'
    : 'the request is malformed';
}

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_') ? code : undefined;
}

/** `GET /` lists the app's routes, from Express's own router. */
function routesOf(app: Express): string[] {
  const out: string[] = [];
  const stack = (app.router as unknown as { stack: RouterLayer[] }).stack;
  for (const layer of stack) {
    const route = layer.route;
    if (!route) continue;
    for (const m of Object.keys(route.methods)) out.push(`${m.toUpperCase()} ${route.path}`);
  }
  return out;
}
type RouterLayer = { route?: { path: string; methods: Record<string, boolean> } };
