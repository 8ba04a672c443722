import { createHealth, isHealthError } from '@org/health';
import { redisCheck } from '@org/health/redis';
import { s3Check } from '@org/health/s3';
import { describe, expect, it, vi } from 'vitest';

// As if the optional peers were not installed.
vi.mock('ioredis', () => {
  throw new Error("Cannot find package 'ioredis' imported from @org/core");
});
vi.mock('@aws-sdk/client-s3', () => {
  throw new Error("Cannot find package '@aws-sdk/client-s3' imported from @org/health");
});

describe('checks whose optional peer is not installed', () => {
  it('fail with ERR_HEALTH_MISSING_PEER as the reason, saying what to install', async () => {
    const bucket = s3Check({ client: { send: async () => undefined }, bucket: 'b' });
    const health = createHealth({
      checks: { redis: redisCheck({ redis: 'redis://:hunter2@127.0.0.1:6379' }), bucket },
    });
    const r = await health.full();
    expect(r.checks.redis).toMatchObject({ status: 'fail' });
    expect(r.checks.redis?.reason).toMatch(/^ERR_HEALTH_MISSING_PEER: .*npm install ioredis/);
    expect(r.checks.bucket?.reason).toMatch(
      /^ERR_HEALTH_MISSING_PEER: .*npm install @aws-sdk\/client-s3/,
    );
    expect(JSON.stringify(r)).not.toContain('hunter2');
    const err = await Promise.resolve(bucket.check(new AbortController().signal)).catch((e) => e);
    expect(isHealthError(err, 'ERR_HEALTH_MISSING_PEER')).toBe(true);
    await health.close();
  });
});
