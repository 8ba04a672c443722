import type { S3Client } from '@aws-sdk/client-s3';
import {
  type CheckReport,
  createHealth,
  type HealthCheck,
  type HealthReport,
  type HealthStatus,
  type LifecycleState,
} from '@org/health';
import { type PgQueryable, pgCheck } from '@org/health/pg';
import { type RedisPingable, redisCheck } from '@org/health/redis';
import { type S3Sender, s3Check } from '@org/health/s3';
import { breakers } from '@org/resilience';
import express from 'express';
import Fastify from 'fastify';
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
    expectTypeOf<S3Client>().toExtend<S3Sender>();
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
    express().use(health.express());
    void Fastify().register(health.fastify);
    expectTypeOf(health.fetchHandler).returns.resolves.toEqualTypeOf<Response>();
  });

  it('takes the @org/resilience registry as a breaker registry', async () => {
    const { breakersCheck } = await import('@org/health');
    expectTypeOf(breakersCheck({ registry: breakers })).toEqualTypeOf<HealthCheck>();
  });
});
