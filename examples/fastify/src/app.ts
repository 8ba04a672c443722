import type { Readable } from 'node:stream';
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
import { rateLimitFastify } from '@org/rate-limit/fastify';
import { breakers, createBreaker, isBreakerOpenError, isTimeoutError } from '@org/resilience';
import { createStorageFromEnv, isStorageError } from '@org/storage';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
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
  /** Fastify's logger. @default false */
  logger?: FastifyServerOptions['logger'];
}

/** The built app: `listen` on it, attach its server to `health`, shut down through it. */
export interface ExampleApp {
  app: FastifyInstance;
  health: Health;
  upstream: QuotesUpstream;
  /** Releases everything the app holds (run by `health.shutdown()` after draining). */
  close(): Promise<void>;
}

/** This app's rate-limit tiers: its own numbers (the package has none built in). */
const tiers = defineTiers({
  api: { limit: 30, window: '1m' },
  auth: { limit: 10, window: '1m', algorithm: 'fixed-window', blockFor: '5m' },
  files: { limit: 20, window: '1m', algorithm: 'token-bucket' },
});

const symbolParams = {
  type: 'object',
  properties: { symbol: { type: 'string', pattern: '^[A-Za-z]{1,5}$' } },
} as const;

/** Builds the Fastify app on the SDK's embedded defaults; `listen` is the caller's (main.ts). */
export async function createApp(options: AppOptions = {}): Promise<ExampleApp> {
  const env = options.env ?? process.env;
  const redis = options.redisUrl || undefined;
  const publicUrl = (options.publicUrl ?? 'http://localhost:3000').replace(/\/+$/, '');
  const maxUploadBytes = options.maxUploadBytes ?? 1024 * 1024;
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: 16 * 1024, // JSON bodies; uploads are bounded by maxUploadBytes
    // A subject of 42 is refused, not turned into "42".
    ajv: { customOptions: { coerceTypes: false } },
  });
  // #region errors
  // Set before the routes: each route keeps the handlers of the scope it was added in.
  app.setNotFoundHandler((_request, reply) => {
    reply.code(404).send({ error: 'not found', see: 'GET /' });
  });
  // What a client got wrong is a 4xx with a reason; anything else a 500 that leaks nothing.
  app.setErrorHandler((err, request, reply) => {
    const status = clientStatus(err);
    if (status) {
      if (status === 413) reply.header('connection', 'close');
      const code = status === 413 ? undefined : codeOf(err);
      return reply.code(status).send({ error: clientMessage(err, status), code });
    }
    request.log.error({ err }, `${request.method} ${request.routeOptions.url} failed`);
    return reply.code(500).send({ error: 'internal error' });
  });
  // #endregion errors

  const routes: string[] = [];
  app.addHook('onRoute', (r) => {
    for (const m of [r.method].flat()) if (m !== 'HEAD') routes.push(`${m} ${r.url}`);
  });

  // #region alerts
  // SENTRY_DSN set: to Sentry (a client of the package's own); unset: JSON lines on stderr.
  const alerts = createAlertsFromEnv({ throttle: { max: 5, window: '1m' } }, env);
  // #endregion alerts

  // #region breaker-cache-ratelimit
  const limiter = createRateLimiter({ tiers, redis, prefix: 'example-fastify:rl:' });
  const cache = createCache({
    redis,
    namespace: 'example-fastify',
    presets: { quote: '30s' },
    grace: '10m', // a stale quote stands in while the upstream fails
  });
  // An onRequest hook: a request over its tier's limit is answered 429 before the handler runs.
  const apiLimit = rateLimitFastify(limiter, { tier: 'api' });
  const upstream = createQuotesUpstream();
  const quotes = createBreaker(
    async ({ signal }, symbol: string) => upstream.quote(symbol, signal),
    { name: 'quotes-upstream', failureThreshold: 3, resetTimeout: '10s', timeout: '2s' },
  );

  app.get<{ Params: { symbol: string } }>(
    '/api/quotes/:symbol',
    { onRequest: apiLimit, schema: { params: symbolParams } },
    async (request) => {
      const symbol = request.params.symbol.toUpperCase();
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
        return { quote, source, breaker: quotes.state };
      } catch (err) {
        // Nothing cached, and the upstream failing or its breaker open: the fallback answer.
        if (!isBreakerOpenError(err) && !isTimeoutError(err) && !(err instanceof UpstreamError)) {
          throw err;
        }
        source = 'fallback';
        const reason = isBreakerOpenError(err) ? 'breaker open' : 'upstream failed';
        return { quote: { symbol, price: null }, source, reason, breaker: quotes.state };
      }
    },
  );

  if (options.chaos ?? true) {
    // The failure switch: `{ "failing": true }` makes every upstream call fail.
    app.post<{ Body: { failing: boolean } }>(
      '/chaos/upstream',
      {
        bodyLimit: 1024,
        schema: {
          body: {
            type: 'object',
            required: ['failing'],
            properties: { failing: { type: 'boolean' } },
          },
        },
      },
      async (request) => {
        upstream.failing = request.body.failing;
        return { failing: upstream.failing, breaker: quotes.state };
      },
    );
  }
  // #endregion breaker-cache-ratelimit

  // #region auth
  const ring = await createKeyRingFor({ redis, env, issuer: 'example-fastify' });
  const schedule = createRotationSchedule(ring.ring, { interval: '30d' }).start();

  const authLimit = rateLimitFastify(limiter, { tier: 'auth' });

  // A demo issuer: in your app, sign after a real login.
  app.post<{ Body: { sub: string } }>(
    '/auth/token',
    {
      onRequest: authLimit,
      bodyLimit: 4096,
      schema: {
        body: {
          type: 'object',
          required: ['sub'],
          properties: { sub: { type: 'string', pattern: '^[\\w.@-]{1,64}$' } },
        },
      },
    },
    async (request) => {
      const token = await ring.ring.sign(
        { scope: 'quotes:read' },
        { subject: request.body.sub, expiresIn: '15m' },
      );
      return { access_token: token, token_type: 'Bearer', expires_in: 900 };
    },
  );

  app.get('/api/me', { onRequest: apiLimit }, async (request, reply) => {
    const token = /^Bearer ([\w.-]+)$/i.exec(request.headers.authorization ?? '')?.[1] ?? '';
    try {
      const { payload, key } = await ring.ring.verify(token);
      return { sub: payload.sub, scope: payload.scope, exp: payload.exp, kid: key.kid };
    } catch (err) {
      if (!isKeyRotationError(err)) throw err;
      reply.header('www-authenticate', 'Bearer error="invalid_token"');
      return reply.code(401).send({ error: 'a valid bearer token is required', code: err.code });
    }
  });

  // The public keys, with Cache-Control, an ETag and 304s: what other services verify with.
  // The handler is node:http's, so Fastify hands it the raw request and response.
  const jwks = ring.ring.jwksHandler({ maxAge: '5m' });
  app.get('/.well-known/jwks.json', (request, reply) => {
    reply.hijack();
    jwks(request.raw, reply.raw);
  });
  // #endregion auth

  // #region upload
  // AWS_S3_BUCKET set: S3 or R2; unset: files under STORAGE_ROOT (./data by default).
  const storage = createStorageFromEnv(env, {
    namespaces: ['uploads'],
    signing: { baseUrl: `${publicUrl}/files/signed`, keyInQuery: true },
  });
  const uploads = storage.namespace('uploads');
  const filesLimit = rateLimitFastify(limiter, { tier: 'files' });

  if (storage.backend === 'local') {
    // Serves the local disk's signed links (S3 and R2 serve their own).
    const signed = storage.handler();
    app.get('/files/signed', (request, reply) => {
      reply.hijack();
      void signed(request.raw, reply.raw);
    });
  }

  await app.register(async (files) => {
    // In this scope every body, whatever its type, reaches the route as a stream, unbuffered.
    files.removeAllContentTypeParsers();
    files.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

    files.put<{ Params: { name: string } }>(
      '/files/:name',
      { onRequest: filesLimit },
      async (request, reply) => {
        if (Number(request.headers['content-length'] ?? 0) > maxUploadBytes) {
          // Refused before reading: the unread body makes the connection unusable.
          reply.header('connection', 'close');
          return reply
            .code(413)
            .send({ error: `the upload is larger than ${maxUploadBytes} bytes` });
        }
        const body = (request.body as Readable | undefined) ?? request.raw;
        try {
          const saved = await uploads.put(request.params.name, limitBody(body, maxUploadBytes), {
            contentType: request.headers['content-type'] ?? 'application/octet-stream',
          });
          return reply.code(201).send(saved);
        } catch (err) {
          // The client went away mid-upload: nothing was stored, and nobody is left to answer.
          if (request.raw.readableAborted && !isPayloadTooLarge(err)) {
            reply.hijack();
            return void reply.raw.destroy();
          }
          throw err;
        }
      },
    );
  });

  app.get<{ Params: { name: string } }>(
    '/files/:name',
    { onRequest: filesLimit },
    async (request, reply) => {
      const info = await uploads.head(request.params.name);
      const body = await uploads.getStream(request.params.name);
      return reply
        .headers({
          'content-type': info.contentType ?? 'application/octet-stream',
          'content-length': String(info.size),
          'x-content-type-options': 'nosniff',
          'content-disposition': 'attachment',
        })
        .send(body);
    },
  );

  app.get<{ Params: { name: string } }>(
    '/files/:name/link',
    { onRequest: filesLimit },
    async (request) => {
      const url = await uploads.signedUrl(request.params.name, { expiresIn: '5m' });
      return { url, expiresInS: 300 };
    },
  );
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
    serviceId: 'example-fastify',
    shutdownDelay: options.shutdownDelay ?? '5s',
    drainTimeout: options.drainTimeout ?? '10s',
  });
  // GET (and HEAD) /health, /health/full, /livez, /readyz, /startupz.
  await app.register(health.fastify);
  // #endregion health

  // Breakers opening, one client hammering a tier, a critical check failing: alerts.
  const detach = [
    attachBreakerAlerts(quotes, alerts),
    attachRateLimitAlerts(limiter, alerts),
    attachHealthAlerts(health, alerts),
  ];

  app.get('/', async () => ({ routes }));

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
  // Fastify's own (bad JSON 400, schema 400, too large 413, media type 415) carry their status.
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : undefined;
}

function clientMessage(err: unknown, status: number): string {
  if (status === 413) return 'the body is too large for this route';
  if (status === 404) return 'no such file';
  if (isStorageError(err)) return err.message;
  // Fastify's messages for what it refused (a schema, the JSON, a media type) name no secret.
  return err instanceof Error ? err.message : 'the request is malformed';
}

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(ERR|FST)_/.test(code) ? code : undefined;
}
