import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Cache } from '@org/cache';
import type { Duration } from '@org/core';
import type { RedisOption } from '@org/core/redis';
import {
  type BreakerRegistry,
  type CheckReport,
  createHealth,
  type HealthCheck,
  type HealthOptions,
  type HealthReport,
  type HealthReporter,
  type HealthStatus,
  type LifecycleState,
} from '@org/health';
import { type PgQueryable, pgCheck } from '@org/health/pg';
import { type RedisCheckOptions, type RedisPingable, redisCheck } from '@org/health/redis';
import { s3Check } from '@org/health/s3';
import { breakers } from '@org/resilience';
import type { Storage } from '@org/storage';
import type { Cluster, Redis } from 'ioredis';
import pg from 'pg';
import { describe, expectTypeOf, it } from 'vitest';

describe('public types', () => {
  it('accepts the SDK clients users already hold', () => {
    expectTypeOf<pg.Pool>().toExtend<PgQueryable>();
    expectTypeOf<pg.Client>().toExtend<PgQueryable>();
    expectTypeOf<pg.PoolClient>().toExtend<PgQueryable>();
    expectTypeOf<Redis>().toExtend<RedisPingable>();
    expectTypeOf<Cluster>().toExtend<RedisPingable>();
    expectTypeOf(pgCheck).returns.toEqualTypeOf<HealthCheck>();
    expectTypeOf(redisCheck).returns.toEqualTypeOf<HealthCheck>();
    expectTypeOf(s3Check).returns.toEqualTypeOf<HealthCheck>();
  });

  it('takes functions returning anything, and HealthCheck objects', () => {
    const pool = new pg.Pool();
    const health = createHealth({
      checks: {
        db: () => pool.query('SELECT 1'),
        plain: { check: async (signal) => expectTypeOf(signal).toEqualTypeOf<AbortSignal>() },
        outcome: () => ({ status: 'warn' as const, reason: 'slow' }),
      },
      quick: ['db'],
    });
    expectTypeOf(health.full()).resolves.toEqualTypeOf<HealthReport>();
    expectTypeOf<HealthReport['status']>().toEqualTypeOf<HealthStatus>();
    expectTypeOf<CheckReport['status']>().toEqualTypeOf<'ok' | 'warn' | 'fail' | 'timeout'>();
    expectTypeOf(health.state).toEqualTypeOf<LifecycleState>();
  });

  it('types events and the framework adapters structurally', () => {
    const health = createHealth({ checks: { db: () => undefined } });
    health.on('report', (e) => {
      expectTypeOf(e.kind).toEqualTypeOf<'quick' | 'full'>();
      expectTypeOf(e.report).toEqualTypeOf<HealthReport>();
    });
    health.on('shutdownError', (e) => expectTypeOf(e.phase).toEqualTypeOf<'drain' | 'closer'>());
    // @ts-expect-error no such event
    health.on('nope', () => undefined);
    // Express, Fastify and S3Client are passed for real in http.test.ts and s3.test.ts, which
    // `tsc --noEmit` checks; their large types stay out of this file to keep it quick.
    expectTypeOf(health.express()).parameters.toEqualTypeOf<
      [IncomingMessage, ServerResponse, (err?: unknown) => void]
    >();
    expectTypeOf(health.fetchHandler).returns.resolves.toEqualTypeOf<Response>();
    expectTypeOf(health.on('state', () => undefined)).toEqualTypeOf<() => void>();
    expectTypeOf(health.close).returns.toEqualTypeOf<Promise<void>>();
  });

  it('takes Redis as core RedisOption, and durations as core Duration', () => {
    expectTypeOf<RedisOption>().toExtend<RedisCheckOptions['redis']>();
    expectTypeOf<Duration>().toEqualTypeOf<NonNullable<HealthOptions['cache']>>();
    expectTypeOf<Duration>().toEqualTypeOf<NonNullable<HealthCheck['timeout']>>();
    redisCheck({ redis: 'redis://127.0.0.1:6379', timeout: '500ms' });
    createHealth({ checks: {}, deadline: '900ms', drainTimeout: '10s', shutdownDelay: 0 });
  });

  it('takes the @org/resilience registry as a breaker registry', async () => {
    const { breakersCheck } = await import('@org/health');
    expectTypeOf(breakersCheck({ registry: breakers })).toEqualTypeOf<HealthCheck>();
    expectTypeOf(breakers).toExtend<BreakerRegistry>();
  });

  it('takes @org/cache and @org/storage instances by shape', () => {
    expectTypeOf<Cache>().toExtend<HealthReporter>();
    expectTypeOf<Storage>().toExtend<HealthReporter>();
  });
});
