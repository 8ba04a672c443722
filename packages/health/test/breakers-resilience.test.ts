import { breakersCheck, createHealth } from '@org/health';
import { breakers, createBreaker } from '@org/resilience';
import { describe, expect, it } from 'vitest';

describe('breakersCheck with the @org/resilience registry', () => {
  it('an open breaker degrades the report and is named; resetting it heals', async () => {
    const name = `health-test-${process.pid}-${Date.now()}`;
    const breaker = createBreaker(
      async () => {
        throw new Error('upstream down');
      },
      { name, failureThreshold: 2, timeout: 1_000 },
    );
    try {
      const health = createHealth({
        checks: { breakers: breakersCheck({ registry: breakers }) },
        cache: 0,
      });
      const before = await health.full();
      expect(before.checks.breakers?.status).toBe('ok');
      await breaker.fire().catch(() => undefined);
      await breaker.fire().catch(() => undefined);
      expect(breaker.state).toBe('open');
      const open = await health.full();
      expect(open.status).toBe('degraded');
      expect(open.checks.breakers?.status).toBe('warn');
      expect((open.checks.breakers!.details as { open: string[] }).open).toContain(name);
      breaker.reset(); // forced closed: still registered, no longer open
      const closed = await health.full();
      expect(closed.checks.breakers?.status).toBe('ok');
      expect(breakers.get(name)?.state).toBe('closed');
      expect((closed.checks.breakers!.details as { open: string[] }).open).not.toContain(name);
    } finally {
      await breaker.close(); // releases it: it leaves the registry
    }
    expect(breakers.get(name)).toBeUndefined();
  });
});
