import {
  type Alerts,
  attachBreakerAlerts,
  attachHealthAlerts,
  attachRateLimitAlerts,
  type BreakerLike,
  createAlerts,
  type HealthLike,
  type RateLimiterLike,
} from '@org/alerts';
import type { Duration, Unsubscribe } from '@org/core';
import { createHealth } from '@org/health';
import { createRateLimiter } from '@org/rate-limit';
import { createBreaker } from '@org/resilience';
import { describe, expectTypeOf, it } from 'vitest';

describe('public types', () => {
  const alerts = createAlerts();

  it('the real breaker, limiter and health fit the structural types', () => {
    const breaker = createBreaker(async () => 1, { name: 'b' });
    const limiter = createRateLimiter({ tiers: { auth: { limit: 5, window: '1m' } } });
    const health = createHealth({ checks: { db: async () => undefined } });
    expectTypeOf(breaker).toExtend<BreakerLike>();
    expectTypeOf(limiter).toExtend<RateLimiterLike>();
    expectTypeOf(health).toExtend<HealthLike>();
    expectTypeOf(attachBreakerAlerts([breaker], alerts)).toEqualTypeOf<Unsubscribe>();
    expectTypeOf(attachRateLimitAlerts(limiter, alerts)).toEqualTypeOf<Unsubscribe>();
    expectTypeOf(attachHealthAlerts(health, alerts)).toEqualTypeOf<Unsubscribe>();
  });

  it('capture never waits; durations are Durations', () => {
    expectTypeOf(alerts.captureException(new Error('x'))).toEqualTypeOf<boolean>();
    expectTypeOf(alerts.flush).parameter(0).toEqualTypeOf<Duration | undefined>();
    expectTypeOf<Alerts['close']>().returns.resolves.toEqualTypeOf<void>();
    // @ts-expect-error: levels are Sentry's
    alerts.alert('payment_failure', { level: 'critical' });
    alerts.alert('my_own_kind', { message: 'any kind of the app' });
  });
});
