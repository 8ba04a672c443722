import { attachHealthAlerts } from '@org/alerts';
import {
  breakersCheck,
  createHealth,
  dependencyCheck,
  diskCheck,
  eventLoopCheck,
  type HealthCheck,
  memoryCheck,
} from '@org/health';
import { breakers } from '@org/resilience';
import type { Feature } from '../app.js';
import { alerts } from './alerts.js';

/**
 * Health on the embedded defaults: event loop, memory and disk, every @org/resilience breaker
 * (open breakers degrade), and the cache and storage the other features registered (a failing
 * one degrades the report). `GET /health` is the quick probe for the load balancer,
 * `GET /health/full` the full report (add `?format=ietf` or `Accept: application/health+json`
 * for the IETF draft form), and `/livez`, `/readyz`, `/startupz` the Kubernetes probes.
 */
export const health: Feature = (app) => {
  const checks: Record<string, HealthCheck> = {
    eventLoop: eventLoopCheck(),
    memory: memoryCheck(),
    disk: diskCheck(),
    breakers: breakersCheck({ registry: breakers }),
  };
  // The example's cache and storage (memory and ./data by default, Redis and S3 when set).
  for (const [name, target] of app.dependencies)
    checks[name] = dependencyCheck(target, { critical: false });
  // Checks a feature brings (the backup feature's "last verified backup" age).
  for (const [name, c] of app.checks) checks[name] = c;
  // It also runs the graceful shutdown: readiness fails, the server drains within its bound,
  // then every feature's closer runs (SIGTERM and SIGINT when main.ts asks for them).
  const h = createHealth({
    checks,
    quick: ['eventLoop'],
    serviceId: 'example-service',
    version: '0.0.0',
    handleSignals: app.options.handleSignals,
    exitOnSignal: app.options.exitOnSignal,
    shutdownDelay: app.options.shutdownDelay,
    drainTimeout: app.options.drainTimeout,
    closerTimeout: app.options.closerTimeout,
  });
  app.runsShutdown(h);
  app.status.health = () => h.full();
  for (const path of ['/health', '/health/full', '/livez', '/readyz', '/startupz']) {
    app.route('GET', path, async (req, res, url) => {
      const answer = await h.respond(url.pathname, {
        accept: req.headers.accept,
        query: url.searchParams,
      });
      if (answer) res.writeHead(answer.status, answer.headers).end(answer.body);
    });
  }
  // A critical check turning unhealthy (and recovering) becomes an alert.
  app.onClose(attachHealthAlerts(h, alerts()));
  app.onClose(() => h.close());
};
