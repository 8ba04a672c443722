import { attachRateLimitAlerts } from '@org/alerts';
import { createRateLimiter, defineTiers, ipKey, rateLimitNode } from '@org/rate-limit';
import type { Feature } from '../app.js';
import { trustProxyFromEnv } from '../env.js';
import { alerts } from './alerts.js';

/** This app's four tiers: its own numbers, not the package's (it has none built in). */
const tiers = defineTiers({
  // Logins: 5 a minute per client, then locked out for 15 minutes; per instance if Redis dies.
  auth: {
    limit: 5,
    window: '1m',
    algorithm: 'fixed-window',
    blockFor: '15m',
    failurePolicy: 'local',
  },
  // Demo quotes cost money upstream: 5 an hour, and refused while they cannot be counted.
  demo: { limit: 5, window: '1h', failurePolicy: 'closed' },
  read: { limit: 120, window: '1m', failurePolicy: 'open' },
  write: { limit: 60, window: '1m', algorithm: 'token-bucket', failurePolicy: 'local' },
});

/**
 * Rate limits on every route: `POST /auth/login` and `GET /rate-limit/quote` have tiers of their
 * own, other reads 120 a minute, other writes 60 a minute, per client address. Shared through
 * Redis when `REDIS_URL` is set (one count across every instance), in memory otherwise. Refusals
 * are 429 with `Retry-After` and the IETF `RateLimit` headers. `GET /rate-limit/status` shows a
 * client's remaining allowance. Behind proxies of the app's own, `TRUST_PROXY` (their count)
 * reads the client from `X-Forwarded-For`; without it the socket's peer is the client.
 */
export const rateLimit: Feature = (app) => {
  const trustProxy = trustProxyFromEnv();
  const limiter = createRateLimiter({
    tiers,
    redis: app.shared.redisUrl, // REDIS_URL; unset or empty: memory only
    prefix: `${app.shared.prefix}:rl:`,
  });
  const tierOf = (req: { method?: string | undefined; url?: string | undefined }) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/auth/login') return 'auth';
    if (path === '/rate-limit/quote') return 'demo';
    if (path?.startsWith('/health') || path === '/livez' || path === '/readyz') return undefined;
    // Monitoring: Prometheus scrapes /metrics, the status page polls /status.json each second.
    if (path === '/metrics' || path === '/status' || path === '/status.json') return undefined;
    return req.method === 'GET' || req.method === 'HEAD' ? 'read' : 'write';
  };
  if (app.options.rateLimit !== false)
    app.use(rateLimitNode(limiter, { tier: tierOf, trustProxy }));

  app.route('POST', '/auth/login', () => ({ token: 'demo-session' }));
  app.route('GET', '/rate-limit/quote', () => ({ quote: { amount: 1250, currency: 'EUR' } }));
  app.route('GET', '/rate-limit/status', async (req) => {
    const id = ipKey(req, { trustProxy }) ?? 'unknown';
    const peek = await Promise.all(
      (['auth', 'demo', 'read', 'write'] as const).map((t) => limiter.peek(t, id)),
    );
    return { id, degraded: limiter.degraded, tiers: peek };
  });
  // One id hammering a tier becomes a security_event alert.
  app.onClose(attachRateLimitAlerts(limiter, alerts()));
  app.dependency('rateLimit', limiter);
  app.onClose(() => limiter.close());
};
