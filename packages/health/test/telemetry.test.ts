import { sleep } from '@org/core';
import { createHealth } from '@org/health';
import { pgCheck } from '@org/health/pg';
import { freePort, type OtelHarness, serverAvailable, startOtel } from '@org/test-utils';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

let otel: OtelHarness;
beforeEach(() => {
  otel = startOtel(); // after @org/health was imported: late registration
});
afterEach(() => otel.close());

const CHECK = 'org.health.check.duration';
const named = (name: string) => ({ 'org.health.check.name': name });
const gauge = async (metric: string, match: Record<string, string>) =>
  (await otel.points(metric, match)).map((p) => p.value);

describe('health telemetry', () => {
  it('times each check and report, and sets the status gauges, per check and per kind', async () => {
    const health = createHealth({
      checks: {
        db: async () => {
          await sleep(20);
        },
        queue: () => ({ status: 'warn', reason: 'backlog 900' }),
        search: {
          check: async () => {
            throw Object.assign(new Error('refused at 10.0.0.7'), { code: 'ECONNREFUSED' });
          },
          critical: false,
        },
        slow: { check: (signal) => sleep(5_000, signal), timeout: 30, critical: false },
      },
      quick: ['db'],
      cache: 0,
    });
    const full = await health.full();
    expect(full.status).toBe('degraded');
    await health.quick();

    const [db] = await otel.points(CHECK, { ...named('db'), 'org.health.check.status': 'ok' });
    expect(db).toMatchObject({ value: 2, unit: 's' }); // once by full(), once by quick()
    expect(db?.sum).toBeGreaterThanOrEqual(0.035);
    expect(await otel.sum(CHECK, { ...named('queue'), 'org.health.check.status': 'warn' })).toBe(1);
    expect(await otel.sum(CHECK, { ...named('search'), 'org.health.check.status': 'fail' })).toBe(
      1,
    );
    const [slow] = await otel.points(CHECK, {
      ...named('slow'),
      'org.health.check.status': 'timeout',
    });
    expect(slow?.sum).toBeGreaterThanOrEqual(0.029);

    expect(await gauge('org.health.check.status', named('db'))).toEqual([0]);
    expect(await gauge('org.health.check.status', named('queue'))).toEqual([1]);
    expect(await gauge('org.health.check.status', named('search'))).toEqual([2]);
    expect(await gauge('org.health.check.status', named('slow'))).toEqual([3]);
    expect(await gauge('org.health.report.status', { 'org.health.report.kind': 'full' })).toEqual([
      1,
    ]);
    expect(await gauge('org.health.report.status', { 'org.health.report.kind': 'quick' })).toEqual([
      0,
    ]);
    expect(
      await otel.sum('org.health.report.duration', {
        'org.health.report.kind': 'full',
        'org.health.report.status': 'degraded',
      }),
    ).toBe(1);
    // A reason (here with an address) is never an attribute.
    for (const p of await otel.collect()) expect(JSON.stringify(p.attributes)).not.toMatch(/10\.0/);
    await health.close();
  });

  it('a cached report records nothing more', async () => {
    const health = createHealth({ checks: { db: () => undefined }, cache: '1m' });
    await health.full();
    await health.full();
    expect(await otel.sum('org.health.report.duration')).toBe(1);
    expect(await otel.sum(CHECK)).toBe(1);
  });

  it('runs a report in a span under the caller’s, and each check in a client span under it', async () => {
    const health = createHealth({
      checks: {
        db: async () => sleep(5),
        search: async () => {
          throw Object.assign(new Error('nope'), { code: 'ECONNREFUSED' });
        },
        sync: () => ({ status: 'ok' }),
      },
      cache: 0,
    });
    const parent = await otel.inSpan('GET /health/full', async () => {
      await health.full();
    });
    const [report] = otel.spans('org.health.report');
    expect(report?.parentSpanContext?.spanId).toBe(parent);
    expect(report?.attributes).toMatchObject({
      'org.health.report.kind': 'full',
      'org.health.report.status': 'unhealthy',
    });
    const checks = otel.spans('org.health.check');
    expect(checks.map((s) => s.attributes['org.health.check.name']).sort()).toEqual([
      'db',
      'search',
      'sync',
    ]);
    for (const s of checks) {
      expect(s.kind).toBe(2); // SpanKind.CLIENT
      expect(s.parentSpanContext?.spanId).toBe(report?.spanContext().spanId);
    }
    const failed = checks.find((s) => s.attributes['org.health.check.name'] === 'search');
    expect(failed?.status.code).toBe(2); // ERROR
    expect(failed?.attributes['error.type']).toBe('ECONNREFUSED');
    const db = checks.find((s) => s.attributes['org.health.check.name'] === 'db');
    expect(db?.status.code).not.toBe(2);
  });

  it('records nothing and changes no report with no SDK', async () => {
    await otel.close();
    const health = createHealth({ checks: { db: () => undefined }, cache: 0 });
    expect((await health.full()).status).toBe('healthy');
    otel = startOtel();
    expect(await otel.collect()).toEqual([]);
    expect(otel.spans()).toEqual([]);
  });
});

describe.runIf(await serverAvailable('PostgreSQL', 5432))(
  'health telemetry on PostgreSQL (127.0.0.1:5432)',
  () => {
    it('a pgCheck runs in a client span, and a refused one records its code on it', async () => {
      const up = new pg.Pool({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' });
      const port = await freePort(); // nothing listens there
      const down = new pg.Pool({
        host: '127.0.0.1',
        port,
        user: 'postgres',
        database: 'test',
        connectionTimeoutMillis: 500,
      });
      try {
        const health = createHealth({
          checks: { database: pgCheck({ client: up }), replica: pgCheck({ client: down }) },
          cache: 0,
        });
        const r = await health.full();
        expect(r.checks.database?.status).toBe('ok');
        expect(r.checks.replica?.status).toBe('fail');
        const spans = otel.spans('org.health.check');
        const database = spans.find((s) => s.attributes['org.health.check.name'] === 'database');
        const replica = spans.find((s) => s.attributes['org.health.check.name'] === 'replica');
        expect(database?.status.code).not.toBe(2);
        expect(replica?.status.code).toBe(2);
        expect(replica?.attributes['error.type']).toBe('ECONNREFUSED');
        expect(
          await otel.sum(CHECK, { ...named('database'), 'org.health.check.status': 'ok' }),
        ).toBe(1);
        expect(
          await otel.sum(CHECK, { ...named('replica'), 'org.health.check.status': 'fail' }),
        ).toBe(1);
        expect(JSON.stringify(spans.map((s) => s.attributes))).not.toContain(String(port));
      } finally {
        await Promise.all([up.end(), down.end()]);
      }
    });
  },
);
