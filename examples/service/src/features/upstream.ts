import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { attachBreakerAlerts } from '@org/alerts';
import { breakers, createBreaker, isBreakerOpenError } from '@org/resilience';
import type { RedisStateStore } from '@org/resilience/redis';
import type { Feature } from '../app.js';
import { envDuration } from '../env.js';
import { alerts } from './alerts.js';

/**
 * A flaky upstream (a real HTTP server on a loopback port, failing `failRate` of its requests)
 * called through a breaker with retries and a fallback, as an app calls OpenAI or Stripe.
 *
 *   GET  /upstream               one call through the breaker (`upstreamCalls`: requests this
 *                                instance's upstream has had)
 *   POST /upstream/chaos?failRate=0.9&delayMs=0   make the upstream worse (or better)
 *   GET  /breakers               every breaker of the process, with its state and stats
 *
 * With `REDIS_URL` set, instances share the breaker's state (`@org/resilience/redis`): when it
 * opens on one, it opens on all of them (they answer with the fallback without calling out), and
 * after `BREAKER_RESET_TIMEOUT` (default 5s) one instance only sends the trial call; its success
 * closes the breaker everywhere. Each instance still has its own upstream here, so the chaos
 * control of one instance breaks the upstream of that instance only.
 */
export const upstream: Feature = async (app) => {
  let failRate = Number(process.env.UPSTREAM_FAIL_RATE ?? 0.3);
  let delayMs = 0;
  let calls = 0;
  const server = createServer((_req, res) => {
    calls++;
    setTimeout(() => {
      if (Math.random() < failRate) res.writeHead(503).end('{"error":"overloaded"}');
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"answer":42}');
    }, delayMs);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

  const resetTimeout = envDuration('BREAKER_RESET_TIMEOUT') ?? '5s';
  // Loaded only with Redis, so the embedded default never loads ioredis.
  let sharedState: RedisStateStore | undefined;
  if (app.shared.redisUrl) {
    const { createRedisStateStore } = await import('@org/resilience/redis');
    sharedState = await createRedisStateStore({
      redis: app.shared.redisUrl,
      prefix: `${app.shared.prefix}:breaker`,
    });
  }

  type Answer = { answer: number | null; fallback?: boolean; reason?: string };
  const breaker = createBreaker(
    async ({ signal }): Promise<Answer> => {
      const res = await fetch(url, { signal });
      if (!res.ok)
        throw Object.assign(new Error(`upstream answered ${res.status}`), { status: res.status });
      return (await res.json()) as Answer;
    },
    {
      name: 'flaky-upstream',
      failureThreshold: 3,
      resetTimeout,
      timeout: '1s',
      retry: { attempts: 2, minDelay: '50ms', maxDelay: '200ms' },
      fallback: (err) => ({
        answer: null,
        fallback: true,
        reason: isBreakerOpenError(err) ? 'breaker open' : 'upstream failed',
      }),
      sharedState,
    },
  );
  breaker.on('open', ({ openUntil, remote }) =>
    console.warn(
      `[breaker] flaky-upstream opened until ${new Date(openUntil).toISOString()}${remote ? ' (by another instance)' : ''}`,
    ),
  );
  breaker.on('close', ({ remote }) =>
    console.info(`[breaker] flaky-upstream closed${remote ? ' (by another instance)' : ''}`),
  );
  breaker.on('storeError', () =>
    console.warn('[breaker] flaky-upstream: the shared state in Redis failed; deciding alone'),
  );

  // The breaker opening and closing become alerts, with its name and last error.
  const detach = attachBreakerAlerts(breaker, alerts());
  app.onClose(detach);
  // Its transitions, for the status page's timeline (its counts are org.breaker.calls).
  app.onClose(app.status.watchBreaker(breaker));
  app.route('GET', '/upstream', async () => ({
    result: await breaker.fire(),
    breaker: breaker.state,
    upstreamCalls: calls,
  }));
  // A demo control, so never mounted in production (NODE_ENV=production): 404 there.
  if (process.env.NODE_ENV !== 'production') {
    app.route('POST', '/upstream/chaos', (_req, _res, u) => {
      const rate = Number(u.searchParams.get('failRate') ?? failRate);
      const delay = Number(u.searchParams.get('delayMs') ?? delayMs);
      failRate = Number.isFinite(rate) ? Math.min(1, Math.max(0, rate)) : failRate;
      delayMs = Number.isFinite(delay) ? Math.min(30_000, Math.max(0, delay)) : delayMs;
      return { failRate, delayMs, upstreamCalls: calls };
    });
    app.status.chaos = true;
  }
  app.route('GET', '/breakers', () => breakers.list().map((b) => b.stats()));
  app.onClose(async () => {
    await breaker.close();
    await sharedState?.close();
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
};
