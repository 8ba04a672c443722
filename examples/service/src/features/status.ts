import { randomBytes } from 'node:crypto';
import { breakers } from '@org/resilience';
import type { App, Feature } from '../app.js';
import { metricsView } from '../status/metrics.js';
import { statusPage } from '../status/page.js';

/**
 * Polled by the page; what a status snapshot holds. `port` is the one the request came in on:
 * with the instance id it says which instance answered.
 */
export async function statusSnapshot(app: App, port?: number) {
  const board = app.status;
  // Every count and ratio: the OpenTelemetry metrics /metrics serves. The breakers' state and
  // transition timeline: their own state and events (a metric carries no timeline).
  const metrics = app.telemetry ? metricsView(await app.telemetry.collect()) : null;
  const breakerList = breakers.list().map((b) => {
    const calls = metrics?.breakers[b.name] ?? {};
    return {
      name: b.name,
      state: b.state,
      calls: metrics && {
        success: calls.success ?? 0,
        failure: calls.failure ?? 0,
        timeout: calls.timeout ?? 0,
        rejected: calls.rejected ?? 0,
        fallback: calls.fallback ?? 0,
      },
      timeline: board.timeline(b.name),
    };
  });
  const counts = metrics?.cache;
  const hits = counts ? counts.l1 + counts.l2 : 0;
  const lookups = counts ? hits + counts.miss : 0;
  const cache = counts && {
    ...counts,
    lookups,
    hitRatio: lookups === 0 ? null : hits / lookups,
    l1Share: hits === 0 ? null : counts.l1 / hits,
  };
  const report = await board.health?.();
  const health = report && {
    status: report.status,
    checks: Object.entries(report.checks).map(([name, c]) => ({
      name,
      status: c.status,
      critical: c.critical,
      latencyMs: c.latencyMs,
    })),
  };
  const { mode, prefix } = app.shared;
  return {
    generatedAt: new Date().toISOString(),
    // Which instance answered, and whether it shares its state (cache, rate limits, breaker, key
    // ring, refresh tokens) with the other instances of `prefix` through Redis, or keeps it alone.
    instance: {
      id: app.instanceId,
      pid: process.pid,
      port: port ?? null,
      state: mode,
      prefix: mode === 'redis' ? prefix : null,
    },
    breakers: breakerList,
    cache: cache ?? null,
    metrics,
    health: health ?? null,
    keys: board.keys?.() ?? [],
    backup: board.backup?.() ?? null,
    chaos: board.chaos,
  };
}

/**
 * `GET /status`: one self-contained HTML page (inline script and CSS under a nonce'd CSP, no
 * CDN) that polls `GET /status.json` every second: the instance that answered and where its
 * shared state lives (Redis or memory), each breaker's state and its transitions,
 * the cache's hit ratio and L1/L2 split, rate-limit decisions per tier, each health check with
 * its latency, and the key ring's keys with their state. Outside production it has a control
 * that makes the upstream fail, to watch the breaker open, fall back and recover. It shows no
 * secret, token or key material, and renders every value as text.
 */
export const status: Feature = (app) => {
  app.route('GET', '/status.json', async (req, res) => {
    res.setHeader('cache-control', 'no-store');
    return statusSnapshot(app, req.socket.localPort);
  });
  app.route('GET', '/status', (_req, res) => {
    const nonce = randomBytes(16).toString('base64');
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'content-security-policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    });
    res.end(statusPage(nonce));
  });
  // Prometheus scrapes the service's own port; 404 when the SDK is off (OTEL_SDK_DISABLED).
  const telemetry = app.telemetry;
  if (telemetry) app.route('GET', '/metrics', (req, res) => telemetry.metricsHandler(req, res));
};
