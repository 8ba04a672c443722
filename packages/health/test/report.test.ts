import { createHealth, type HealthReport, isHealthError, toIetf, toSimple } from '@org/health';
import { describe, expect, it } from 'vitest';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ok = () => undefined;
const boom = () => {
  throw new Error('boom');
};

describe('report status', () => {
  it('is healthy when every check passes, with latency per check', async () => {
    const health = createHealth({
      checks: { database: async () => sleep(20), cache: ok },
      quick: ['database'],
    });
    const full = await health.full();
    expect(full.status).toBe('healthy');
    expect(Object.keys(full.checks)).toEqual(['database', 'cache']);
    expect(full.checks.database?.status).toBe('ok');
    expect(full.checks.database?.latencyMs).toBeGreaterThanOrEqual(15);
    const quick = await health.quick();
    expect(Object.keys(quick.checks)).toEqual(['database']);
    expect(toSimple(quick)).toEqual({ status: 'healthy', database: 'ok' });
  });

  it('a failing critical check makes it unhealthy, an optional one degraded', async () => {
    const degraded = createHealth({
      checks: { database: ok, search: { check: boom, critical: false } },
    });
    const r1 = await degraded.full();
    expect(r1.status).toBe('degraded');
    expect(r1.checks.search).toMatchObject({ status: 'fail', critical: false, reason: 'boom' });

    const unhealthy = createHealth({ checks: { database: boom, search: ok } });
    expect((await unhealthy.full()).status).toBe('unhealthy');
  });

  it('a warn outcome degrades even a critical check', async () => {
    const health = createHealth({
      checks: { queue: () => ({ status: 'warn', reason: 'backlog 900' }) },
    });
    const r = await health.full();
    expect(r.status).toBe('degraded');
    expect(r.checks.queue).toMatchObject({ status: 'warn', reason: 'backlog 900' });
  });

  it('rejects names that would break the report forms, and unknown quick names', () => {
    for (const name of ['status', 'db:x', '']) {
      try {
        createHealth({ checks: { [name]: ok } });
        expect.unreachable();
      } catch (err) {
        expect(isHealthError(err) && err.code).toBe('ERR_HEALTH_INVALID_OPTIONS');
      }
    }
    expect(() => createHealth({ checks: { a: ok }, quick: ['b'] })).toThrow(/not in checks/);
    expect(() => createHealth({ checks: { a: ok }, deadlineMs: 0 })).toThrow(
      'deadlineMs must be a finite number of milliseconds ≥ 1, got 0',
    );
    expect(() => createHealth({ checks: { a: { check: ok, timeout: Number.NaN } } })).toThrow(
      /checks\.a\.timeout/,
    );
    expect(() => createHealth({ checks: { a: ok }, cacheMs: -1 })).toThrow(/cacheMs/);
    expect(createHealth({ checks: { a: ok }, cacheMs: 0, beforeShutdownMs: 0 }).state).toBe(
      'ready',
    );
  });
});

describe('timeouts and the deadline', () => {
  it('cuts a check that never settles at its timeout, aborts its signal, reports timeout', async () => {
    let aborted: unknown;
    const health = createHealth({
      checks: {
        stuck: {
          timeout: 100,
          check: (signal) =>
            new Promise(() => {
              signal.addEventListener('abort', () => {
                aborted = signal.reason;
              });
            }),
        },
        fine: ok,
      },
      deadlineMs: 2_000,
    });
    const t0 = performance.now();
    const r = await health.full();
    const took = performance.now() - t0;
    expect(took).toBeGreaterThanOrEqual(95);
    expect(took).toBeLessThan(600);
    expect(r.checks.stuck).toMatchObject({ status: 'timeout', reason: 'timed out after 100 ms' });
    expect(r.checks.fine?.status).toBe('ok');
    expect(r.status).toBe('unhealthy');
    expect(isHealthError(aborted) && aborted.code).toBe('ERR_HEALTH_CHECK_TIMEOUT');
  });

  it('a timeout is distinct from a failure in every form', async () => {
    const health = createHealth({
      checks: {
        slow: { check: () => sleep(5_000), timeout: 50, critical: false },
        broken: { check: boom, critical: false },
      },
    });
    const r = await health.full();
    expect(r.checks.slow?.status).toBe('timeout');
    expect(r.checks.broken?.status).toBe('fail');
    expect(toSimple(r)).toEqual({ status: 'degraded', slow: 'timeout', broken: 'fail' });
    const ietf = toIetf(r);
    expect(ietf.checks['slow:responseTime']?.[0]?.output).toMatch(/^timeout: /);
    expect(ietf.checks['broken:responseTime']?.[0]?.output).toBe('boom');
  });

  it('cuts the whole report at deadlineMs even when check timeouts are longer', async () => {
    const health = createHealth({
      checks: {
        a: { check: () => sleep(5_000), timeout: 3_000 },
        b: { check: () => sleep(5_000), timeout: 3_000 },
        c: ok,
      },
      deadlineMs: 150,
    });
    const t0 = performance.now();
    const r = await health.full();
    expect(performance.now() - t0).toBeLessThan(600);
    expect(r.checks.a).toMatchObject({
      status: 'timeout',
      reason: 'cut at the report deadline (150 ms)',
    });
    expect(r.checks.b?.status).toBe('timeout');
    expect(r.checks.c?.status).toBe('ok');
  });

  it('runs checks concurrently: ten 100 ms checks finish in about 100 ms', async () => {
    const checks = Object.fromEntries(
      Array.from({ length: 10 }, (_, i) => [`c${i}`, { check: () => sleep(100), timeout: 1_000 }]),
    );
    const health = createHealth({ checks, deadlineMs: 2_000 });
    const t0 = performance.now();
    const r = await health.full();
    const took = performance.now() - t0;
    expect(r.status).toBe('healthy');
    expect(took).toBeGreaterThanOrEqual(95);
    expect(took).toBeLessThan(250);
  });
});

describe('safe reasons', () => {
  it('a check that throws a message with a password never shows it', async () => {
    const secret = 'hunter2-S3cr3t';
    const health = createHealth({
      checks: {
        database: () => {
          throw new Error(
            `connect failed for postgres://app:${secret}@db.internal:5432/orders?sslmode=require password=${secret}`,
          );
        },
        api: () => {
          throw new Error(
            `401 from https://api.example.com/v1?token=${secret} (Authorization: Bearer ${secret})`,
          );
        },
      },
    });
    const r = await health.full();
    const all = JSON.stringify([r, toSimple(r), toIetf(r)]);
    expect(all).not.toContain(secret);
    expect(r.checks.database?.reason).toContain('postgres://***@db.internal:5432');
    expect(r.checks.database?.reason).toContain('password=***');
    expect(r.checks.api?.reason).toContain('https://api.example.com');
  });

  it('scrubs the literal secrets given in options, and a non-Error rejection', async () => {
    const health = createHealth({
      secrets: ['plainword'],
      checks: { a: () => Promise.reject('it said plainword') },
    });
    const r = await health.full();
    expect(r.checks.a?.reason).toBe('it said ***');
  });
});

describe('caching', () => {
  it('reuses a report for cacheMs by the injected clock; concurrent callers share one run', async () => {
    let now = 1_000_000;
    let runs = 0;
    const health = createHealth({
      checks: {
        db: async () => {
          runs++;
          await sleep(30);
        },
      },
      quick: ['db'],
      cacheMs: 5_000,
      clock: { now: () => now },
    });
    const many = await Promise.all(Array.from({ length: 50 }, () => health.quick()));
    expect(runs).toBe(1);
    expect(new Set(many).size).toBe(1);
    now += 4_999;
    await health.quick();
    expect(runs).toBe(1);
    now += 2;
    const fresh = await health.quick();
    expect(runs).toBe(2);
    expect(fresh.checkedAt).toBe(new Date(now).toISOString());
    // quick and full are cached apart
    await health.full();
    expect(runs).toBe(3);
  });

  it('cacheMs 0 still shares a run among concurrent callers', async () => {
    let runs = 0;
    const health = createHealth({ checks: { db: async () => void runs++ }, cacheMs: 0 });
    await Promise.all([health.full(), health.full(), health.full()]);
    expect(runs).toBe(1);
    await health.full();
    expect(runs).toBe(2);
  });

  it('a caller signal stops only that caller', async () => {
    const health = createHealth({ checks: { db: () => sleep(100) } });
    const other = health.full();
    const ac = new AbortController();
    const mine = health.full({ signal: ac.signal });
    ac.abort(new Error('gone'));
    await expect(mine).rejects.toThrow('gone');
    expect((await other).status).toBe('healthy');
  });

  it('emits report events', async () => {
    const seen: HealthReport[] = [];
    const health = createHealth({ checks: { db: ok }, cacheMs: 10_000 });
    const off = health.on('report', (e) => seen.push(e.report));
    await health.full();
    await health.full();
    off();
    expect(seen).toHaveLength(1);
  });
});

describe('change events', () => {
  it('emits checkChange and statusChange only when something changes', async () => {
    let down = false;
    const health = createHealth({
      checks: {
        db: () => {
          if (down) throw new Error('refused password=pw');
        },
        cache: { check: () => undefined, critical: false },
      },
      cacheMs: 0,
    });
    const changes: string[] = [];
    health.on('checkChange', (e) => changes.push(`${e.check} ${e.from}→${e.to} ${e.reason ?? ''}`));
    health.on('statusChange', (e) => changes.push(`${e.kind} ${e.from}→${e.to}`));
    await health.full();
    await health.full();
    down = true;
    await health.full();
    await health.full();
    down = false;
    await health.full();
    expect(changes).toEqual([
      'db undefined→ok ',
      'cache undefined→ok ',
      'full undefined→healthy',
      'db ok→fail refused password=***',
      'full healthy→unhealthy',
      'db fail→ok ',
      'full unhealthy→healthy',
    ]);
  });
});

describe('IETF form', () => {
  it('maps statuses and keys checks name:measurement with observed values', async () => {
    const health = createHealth({
      version: '2',
      serviceId: 'orders',
      releaseId: '2.3.1',
      checks: {
        database: { check: ok, componentType: 'datastore', componentId: 'primary' },
        memory: () => ({ measurement: 'utilization', observedValue: 41.5, observedUnit: '%' }),
        search: { check: boom, critical: false },
      },
    });
    const r = await health.full();
    const ietf = toIetf(r, { releaseId: '2.3.1' });
    expect(ietf).toMatchObject({
      status: 'warn',
      version: '2',
      serviceId: 'orders',
      releaseId: '2.3.1',
    });
    expect(ietf.checks['database:responseTime']?.[0]).toMatchObject({
      componentId: 'primary',
      componentType: 'datastore',
      status: 'pass',
      observedUnit: 'ms',
      time: r.checkedAt,
    });
    expect(ietf.checks['memory:utilization']?.[0]).toMatchObject({
      observedValue: 41.5,
      observedUnit: '%',
    });
    expect(ietf.checks['search:responseTime']?.[0]).toMatchObject({
      status: 'fail',
      output: 'boom',
    });
  });
});

describe('clock', () => {
  it('a clock that goes backwards expires the cache', async () => {
    let now = 10_000;
    let runs = 0;
    const health = createHealth({
      checks: { db: () => void runs++ },
      cacheMs: 5_000,
      clock: { now: () => now },
    });
    await health.full();
    now -= 60_000;
    await health.full();
    expect(runs).toBe(2);
  });
});
