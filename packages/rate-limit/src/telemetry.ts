/**
 * The limiter's OpenTelemetry instruments (recorded only when the app registers an SDK; see
 * `createTelemetry` in @org/core). Attributes are the tier (the app's own, bounded set), the
 * outcome, the store and the fallback: never the id that was checked.
 */
import { createTelemetry, errorType } from '@org/core';
import type { Rule } from './tiers.js';
import type { RateLimitResult } from './types.js';

export const telemetry = createTelemetry(
  { name: '@org/rate-limit' },
  {
    decisions: {
      kind: 'counter',
      name: 'org.rate_limit.decisions',
      unit: '{decision}',
      description: 'Checks decided by limit(), by tier and outcome (allowed or limited).',
    },
    errors: {
      kind: 'counter',
      name: 'org.rate_limit.errors',
      unit: '{check}',
      description:
        "Checks that rejected (a 'closed' tier while Redis fails), by tier and error code.",
    },
    fallbacks: {
      kind: 'counter',
      name: 'org.rate_limit.store.fallbacks',
      unit: '{fallback}',
      description: 'Times the limiter left Redis for its failure policy, by the error that did it.',
    },
  },
);

/** Counts one decision of `limit()` (not of `peek()`). */
export function recordDecision(r: RateLimitResult): void {
  const m = telemetry.metrics();
  if (m === undefined) return;
  const attributes: Record<string, string> = {
    'org.rate_limit.tier': r.tier,
    'org.rate_limit.outcome': r.allowed ? 'allowed' : 'limited',
    'org.rate_limit.store': r.store,
  };
  if (r.route !== undefined) attributes['org.rate_limit.route'] = r.route;
  if (r.fallback !== undefined) attributes['org.rate_limit.fallback'] = r.fallback;
  if (r.listed !== undefined) attributes['org.rate_limit.listed'] = r.listed;
  m.decisions.add(1, attributes);
}

/** Counts a check that rejected instead of deciding. */
export function recordCheckError(rule: Rule, err: unknown): void {
  telemetry.metrics()?.errors.add(1, {
    'org.rate_limit.tier': rule.tier,
    'error.type': errorType(err),
  });
}

/** Counts a switch from Redis to the failure policy. */
export function recordFallback(err: unknown): void {
  telemetry.metrics()?.fallbacks.add(1, { 'error.type': errorType(err) });
}
