import { createCache } from '@org/cache';
import type { Feature } from '../app.js';

/** A contractor profile, as a slow upstream (a database, a partner API) would return it. */
interface Contractor {
  id: string;
  name: string;
  trades: string[];
  loadedAt: Date;
  /** The instance whose loader made it: behind a load balancer, the others read it from Redis. */
  loadedBy: string;
}

const LOADER_DELAY_MS = 300;

/**
 * A two-tier cache: Redis when `REDIS_URL` is set, memory otherwise, and the same behaviour
 * when Redis hangs or dies (only slower). The TTL presets are this app's own. `GET /cache/contractor?id=1`
 * shows getOrSet over a slow loader: the first call takes ~300 ms (`source: "loader"`), repeats
 * are served from cache; `DELETE /cache/contractor?id=1` invalidates it on every instance.
 * With Redis, several instances share one copy: the loader runs once across them (a lock in
 * Redis), each keeps it in its memory (L1), and an invalidation on one drops it from every
 * instance's memory (pub/sub), so the next read anywhere loads it again, once.
 * `GET /cache/health` is what @org/health checks.
 */
export const cache: Feature = (app) => {
  const c = createCache({
    redis: app.shared.redisUrl, // REDIS_URL; unset or empty: memory only
    namespace: app.shared.prefix, // REDIS_PREFIX, default example-service
    presets: { contractor: '10m' },
  });
  let loads = 0;
  const counts = { hit: 0, miss: 0, degraded: 0, recovered: 0 };
  // The status page reads its hit ratio from org.cache.requests; these are the route's answer.
  c.on('hit', () => counts.hit++);
  c.on('miss', () => counts.miss++);
  c.on('degraded', () => counts.degraded++);
  c.on('recovered', () => counts.recovered++);

  app.route('GET', '/cache/contractor', async (_req, _res, url) => {
    const id = url.searchParams.get('id') ?? '1';
    const started = performance.now();
    let source: 'cache' | 'loader' = 'cache';
    const contractor = await c.getOrSet<Contractor>(
      `contractor:${id}`,
      async ({ signal }) => {
        source = 'loader';
        loads++;
        await new Promise((r) => setTimeout(r, LOADER_DELAY_MS, undefined));
        signal.throwIfAborted();
        return {
          id,
          name: `Contractor ${id}`,
          trades: ['roofing'],
          loadedAt: new Date(),
          loadedBy: app.instanceId,
        };
      },
      { ttl: 'contractor', tags: [`contractor:${id}`] },
    );
    return {
      contractor,
      source,
      tookMs: Math.round(performance.now() - started),
      loaderRuns: loads,
      events: counts,
    };
  });

  app.route('DELETE', '/cache/contractor', async (_req, _res, url) => {
    await c.deleteByTag(`contractor:${url.searchParams.get('id') ?? '1'}`);
    return { deleted: true };
  });

  app.route('GET', '/cache/health', async () => c.health());
  app.dependency('cache', c);
  app.onClose(() => c.close());
};
