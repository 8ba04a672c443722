import {
  type BreakerRegistry,
  breakersCheck,
  createHealth,
  diskCheck,
  eventLoopCheck,
  type HealthCheck,
  memoryCheck,
} from '@org/health';
import * as resilience from '@org/resilience';
import type { Feature } from '../app.js';

/** The process-wide breaker registry of @org/resilience, when that package provides one. */
function breakerRegistry(): BreakerRegistry | undefined {
  const registry = (resilience as Record<string, unknown>).breakers as BreakerRegistry | undefined;
  return typeof registry?.list === 'function' ? registry : undefined;
}

/**
 * Health on the embedded defaults: event loop, memory and disk, plus every @org/resilience
 * breaker (open breakers degrade). `GET /health` is the quick probe for the load balancer,
 * `GET /health/full` the full report (add `?format=ietf` or `Accept: application/health+json`
 * for the IETF draft form), and `/livez`, `/readyz`, `/startupz` the Kubernetes probes.
 */
export const health: Feature = (app) => {
  const checks: Record<string, HealthCheck> = {
    eventLoop: eventLoopCheck(),
    memory: memoryCheck(),
    disk: diskCheck(),
  };
  const registry = breakerRegistry();
  if (registry) checks.breakers = breakersCheck({ registry });
  const h = createHealth({
    checks,
    quick: ['eventLoop'],
    serviceId: 'example-service',
    version: '0.0.0',
  });
  for (const path of ['/health', '/health/full', '/livez', '/readyz', '/startupz']) {
    app.route('GET', path, async (req, res, url) => {
      const answer = await h.respond(url.pathname, {
        accept: req.headers.accept,
        query: url.searchParams,
      });
      if (answer) res.writeHead(answer.status, answer.headers).end(answer.body);
    });
  }
  app.onClose(() => h.dispose());
};
