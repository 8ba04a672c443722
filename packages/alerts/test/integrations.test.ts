import {
  attachBreakerAlerts,
  attachHealthAlerts,
  attachRateLimitAlerts,
  createAlerts,
} from '@org/alerts';
import { createHealth } from '@org/health';
import { createRateLimiter } from '@org/rate-limit';
import { createBreaker } from '@org/resilience';
import { afterEach, describe, expect, it } from 'vitest';

type Line = {
  level: string;
  message: string;
  tags: Record<string, string>;
  extra?: Record<string, unknown>;
  exception?: { value: string };
};
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

function collect() {
  const lines: Line[] = [];
  const alerts = createAlerts({ log: (l) => lines.push(JSON.parse(l) as Line) });
  closers.push(() => alerts.close());
  return { alerts, lines };
}

describe('integrations (typed structurally, real packages here)', () => {
  it('a breaker opening and closing becomes circuit_breaker alerts with its name and last error', async () => {
    const { alerts, lines } = collect();
    let fail = true;
    const breaker = createBreaker(
      async () => {
        if (fail) throw new Error('stripe 503 with password=hunter2');
        return 'ok';
      },
      { name: 'stripe', failureThreshold: 2, resetTimeout: 20 },
    );
    closers.push(() => breaker.close());
    const off = attachBreakerAlerts([breaker], alerts);
    for (let i = 0; i < 3; i++) await breaker.fire().catch(() => {});
    await new Promise((r) => setTimeout(r, 40));
    fail = false;
    await breaker.fire();
    await alerts.flush('1s');
    expect(lines.map((l) => [l.level, l.message, l.tags.breaker, l.tags['alert.kind']])).toEqual([
      ['error', 'Circuit breaker "stripe" opened', 'stripe', 'circuit_breaker'],
      ['info', 'Circuit breaker "stripe" closed', 'stripe', 'circuit_breaker'],
    ]);
    expect(lines[0]!.exception?.value).toBe('stripe 503 with password= [redacted]');
    off();
    off();
    breaker.trip();
    await alerts.flush('1s');
    expect(lines).toHaveLength(2);
  });

  it('a tier hammered by one id is one security_event per window', async () => {
    const { alerts, lines } = collect();
    const limiter = createRateLimiter({ tiers: { auth: { limit: 1, window: '1m' } } });
    closers.push(() => limiter.close());
    const off = attachRateLimitAlerts(limiter, alerts, { threshold: 5 });
    for (let i = 0; i < 30; i++) await limiter.limit('auth', '203.0.113.7');
    for (let i = 0; i < 3; i++) await limiter.limit('auth', '198.51.100.1');
    await alerts.flush('1s');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'warning',
      tags: { tier: 'auth', 'alert.kind': 'security_event' },
    });
    expect(lines[0]!.extra).toMatchObject({ id: '203.0.113.7', refused: 5 });
    off();
  });

  it('a critical check turning unhealthy is an error alert, its recovery an info one', async () => {
    const { alerts, lines } = collect();
    let dbUp = false;
    const health = createHealth({
      checks: {
        database: async () => {
          if (!dbUp) throw new Error('connection refused');
        },
        cache: async () => {
          throw new Error('not critical');
        },
      },
      cache: 0,
    });
    closers.push(() => health.close());
    const off = attachHealthAlerts(health, alerts, { critical: ['database'] });
    await health.full();
    dbUp = true;
    await health.full();
    await alerts.flush('1s');
    expect(lines.map((l) => [l.level, l.message])).toEqual([
      ['error', 'Health check "database" is failing'],
      ['info', 'Health check "database" recovered'],
    ]);
    off();
  });
});
