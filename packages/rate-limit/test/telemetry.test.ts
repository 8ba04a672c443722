import { createRateLimiter, isRateLimitError } from '@org/rate-limit';
import { freePort, type OtelHarness, serverAvailable, startOtel } from '@org/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { uniquePrefix } from './support/clock.js';

let otel: OtelHarness;
beforeEach(() => {
  otel = startOtel(); // after @org/rate-limit was imported: late registration
});
afterEach(() => otel.close());

const DECISIONS = 'org.rate_limit.decisions';
const redisUp = await serverAvailable('Redis', 6379);

describe('rate-limit telemetry', () => {
  it('counts each limit() decision by tier and outcome, and never a peek', async () => {
    const limiter = createRateLimiter({
      tiers: { login: { limit: 2, window: '1m' }, read: { limit: 100, window: '1m' } },
      deny: ['203.0.113.9'],
    });
    for (let i = 0; i < 3; i++) await limiter.limit('login', 'user-1');
    await limiter.limit('read', 'user-1');
    await limiter.peek('read', 'user-1');
    await limiter.limit('read', '203.0.113.9');
    const login = { 'org.rate_limit.tier': 'login', 'org.rate_limit.store': 'memory' };
    expect(await otel.sum(DECISIONS, { ...login, 'org.rate_limit.outcome': 'allowed' })).toBe(2);
    expect(await otel.sum(DECISIONS, { ...login, 'org.rate_limit.outcome': 'limited' })).toBe(1);
    expect(await otel.sum(DECISIONS, { 'org.rate_limit.tier': 'read' })).toBe(2);
    expect(
      await otel.sum(DECISIONS, {
        'org.rate_limit.listed': 'deny',
        'org.rate_limit.outcome': 'limited',
      }),
    ).toBe(1);
    // The id is never an attribute.
    for (const p of await otel.points(DECISIONS))
      expect(JSON.stringify(p.attributes)).not.toMatch(/user-1|203\.0\.113\.9/);
    await limiter.close();
  });

  it('counts the fallback from an unreachable Redis, the decisions it made and the closed tier’s refusals', async () => {
    const port = await freePort(); // nothing listens there
    const limiter = createRateLimiter({
      tiers: {
        local: { limit: 5, window: '1m', failurePolicy: 'local' },
        closed: { limit: 5, window: '1m', failurePolicy: 'closed' },
      },
      redis: `redis://127.0.0.1:${port}`,
      timeout: 50,
      probeInterval: 60_000,
    });
    await limiter.limit('local', 'a');
    await limiter.limit('local', 'a');
    const err = await limiter.limit('closed', 'a').catch((e: unknown) => e);
    expect(isRateLimitError(err, 'ERR_RATE_LIMIT_UNAVAILABLE')).toBe(true);
    expect(await otel.sum('org.rate_limit.store.fallbacks')).toBe(1);
    const [fallback] = await otel.points('org.rate_limit.store.fallbacks');
    expect(String(fallback?.attributes['error.type'])).toMatch(/^ERR_RATE_LIMIT_/);
    expect(
      await otel.sum(DECISIONS, {
        'org.rate_limit.tier': 'local',
        'org.rate_limit.fallback': 'local',
        'org.rate_limit.outcome': 'allowed',
      }),
    ).toBe(2);
    expect(
      await otel.sum('org.rate_limit.errors', {
        'org.rate_limit.tier': 'closed',
        'error.type': 'ERR_RATE_LIMIT_UNAVAILABLE',
      }),
    ).toBe(1);
    await limiter.close();
  });

  it.runIf(redisUp)('counts decisions made on Redis (127.0.0.1:6379)', async () => {
    const limiter = createRateLimiter({
      tiers: { api: { limit: 1, window: '1m' } },
      redis: 'redis://127.0.0.1:6379',
      prefix: uniquePrefix('otel'),
    });
    await limiter.limit('api', 'k');
    await limiter.limit('api', 'k');
    const redis = { 'org.rate_limit.tier': 'api', 'org.rate_limit.store': 'redis' };
    expect(await otel.sum(DECISIONS, { ...redis, 'org.rate_limit.outcome': 'allowed' })).toBe(1);
    expect(await otel.sum(DECISIONS, { ...redis, 'org.rate_limit.outcome': 'limited' })).toBe(1);
    expect(await otel.sum('org.rate_limit.store.fallbacks')).toBe(0);
    await limiter.close();
  });
});
