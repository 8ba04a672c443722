import type { TwoTierCache } from './cache.js';
import type { CacheDriver } from './driver.js';
import { createRedisDriver } from './drivers/redis.js';
import { encodeBusMessage } from './invalidations.js';
import { L2Guard } from './l2-guard.js';
import type { Settings } from './settings.js';
import { recordFallback } from './telemetry.js';
import type { CacheOptions } from './types.js';

/**
 * The L2 of a new cache: its driver (made from `redis`, else the `driver` option) behind a guard
 * wired to the cache's events, L1 and outage journal; undefined for a memory-only cache.
 */
export function guardL2<P extends string>(
  c: TwoTierCache<P>,
  options: CacheOptions<P>,
  s: Settings,
): L2Guard | undefined {
  const driver: CacheDriver | undefined =
    // `redis: process.env.REDIS_URL` with the variable unset or empty means no Redis.
    options.redis !== undefined && options.redis !== ''
      ? // The cache's own command bound (250 ms by default) goes to core's client defaults.
        createRedisDriver(options.redis, {
          commandTimeout: s.timeouts.command,
          connectTimeout: s.timeouts.connect,
        })
      : options.driver;
  if (!driver) return undefined;
  return new L2Guard(driver, {
    timeoutMs: s.timeouts.command,
    failureThreshold: s.failureThreshold,
    probeIntervalMs: s.probeIntervalMs,
    onError: (operation, key, error) => c.emitter.emit('error', { operation, key, error }),
    onDegraded: (error) => {
      // Invalidations may be lost while L2 is unreachable: a stale L1 is worse than a miss.
      c.flushL1();
      recordFallback(c, driver.name, error);
      c.emitter.emit('degraded', { error });
    },
    onRecovered: (downtimeMs) => {
      c.flushL1();
      c.emitter.emit('recovered', { downtimeMs });
    },
    hasBacklog: () => !c.journal.empty,
    replayBacklog: () =>
      c.journal.replay({
        driver,
        publish: async (msg) => {
          if (c.publishing) await driver.publish?.(c.channel, encodeBusMessage(c.id, msg));
        },
        timeoutMs: Math.max(1_000, 4 * s.timeouts.command),
      }),
  });
}
