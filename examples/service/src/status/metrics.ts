import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';

/** A counter's value by one attribute, summed over the other attributes. */
export type CountBy = Record<string, number>;

/**
 * Sums the data points of counter `name` whose attributes include `match`, grouped by the
 * attribute `by`. Reads the same collection `GET /metrics` serves.
 */
export function sumBy(
  collected: ResourceMetrics,
  name: string,
  by: string,
  match: Record<string, string> = {},
): CountBy {
  const out: CountBy = {};
  for (const scope of collected.scopeMetrics) {
    for (const metric of scope.metrics) {
      if (metric.descriptor.name !== name) continue;
      for (const point of metric.dataPoints) {
        const attrs = point.attributes;
        if (!Object.entries(match).every(([k, v]) => attrs[k] === v)) continue;
        if (typeof point.value !== 'number') continue;
        const key = String(attrs[by] ?? 'none');
        out[key] = (out[key] ?? 0) + point.value;
      }
    }
  }
  return out;
}

/** The cache's lookups by tier and result (`org.cache.requests`): stale answers count in their tier. */
export interface CacheCounts {
  l1: number;
  l2: number;
  miss: number;
  stale: number;
}

/** What the status page shows of the metrics the packages record. */
export interface MetricsView {
  /** Each breaker's attempts by outcome, and the fallbacks that answered (`org.breaker.calls`). */
  breakers: Record<string, CountBy>;
  cache: CacheCounts;
  rateLimit: { tier: string; allowed: number; limited: number }[];
  alertsSent: number;
  storageBytes: CountBy;
  backupCryptoBytes: CountBy;
  keyRotation: { signs: number; verifies: CountBy };
}

const total = (c: CountBy) => Object.values(c).reduce((a, b) => a + b, 0);

export function metricsView(collected: ResourceMetrics): MetricsView {
  const decisions = 'org.rate_limit.decisions';
  const allowed = sumBy(collected, decisions, 'org.rate_limit.tier', {
    'org.rate_limit.outcome': 'allowed',
  });
  const limited = sumBy(collected, decisions, 'org.rate_limit.tier', {
    'org.rate_limit.outcome': 'limited',
  });
  const tiers = [...new Set([...Object.keys(allowed), ...Object.keys(limited)])].sort();
  const breakerCalls = 'org.breaker.calls';
  const names = Object.keys(sumBy(collected, breakerCalls, 'org.breaker.name'));
  const requests = 'org.cache.requests';
  const byTier = sumBy(collected, requests, 'org.cache.tier'); // a miss has no tier
  const byResult = sumBy(collected, requests, 'org.cache.result');
  return {
    breakers: Object.fromEntries(
      names.map((name) => [
        name,
        sumBy(collected, breakerCalls, 'org.breaker.outcome', { 'org.breaker.name': name }),
      ]),
    ),
    cache: {
      l1: byTier.l1 ?? 0,
      l2: byTier.l2 ?? 0,
      miss: byResult.miss ?? 0,
      stale: byResult.stale ?? 0,
    },
    rateLimit: tiers.map((tier) => ({
      tier,
      allowed: allowed[tier] ?? 0,
      limited: limited[tier] ?? 0,
    })),
    alertsSent: total(sumBy(collected, 'org.alerts.sent', 'org.alerts.level')),
    storageBytes: sumBy(collected, 'org.storage.bytes', 'org.storage.operation'),
    backupCryptoBytes: sumBy(collected, 'org.backup_crypto.bytes', 'org.backup_crypto.operation'),
    keyRotation: {
      signs: total(sumBy(collected, 'org.key_rotation.signs', 'org.key_rotation.outcome')),
      verifies: sumBy(collected, 'org.key_rotation.verifies', 'org.key_rotation.outcome'),
    },
  };
}
