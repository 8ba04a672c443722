import * as diagnostics from 'node:diagnostics_channel';
import { isAbortedError, isTimeoutError, TimeoutError } from '@org/core';
import {
  createHealth,
  HealthErrorCode,
  type HealthReport,
  isHealthError,
  toIetf,
  toSimple,
} from '@org/health';
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
        expect(isHealthError(err) && err.code).toBe('ERR_HEALTH_INVALID_OPTION');
      }
    }
    const invalid = (fn: () => unknown, message: string | RegExp) => {
      expect(fn).toThrow(message);
      try {
        fn();
      } catch (err) {
        expect(isHealthError(err, HealthErrorCode.InvalidOption)).toBe(true);
      }
    };
    invalid(() => createHealth({ checks: { a: ok }, quick: ['b'] }), /not in checks/);
    invalid(
      () => createHealth({ checks: { a: ok }, deadline: 0 }),
      '`deadline` must be a duration of at least 1 ms; got 0',
    );
    invalid(
      () => createHealth({ checks: { a: { check: ok, timeout: Number.NaN } } }),
      /checks\.a\.timeout/,
    );
    invalid(() => createHealth({ checks: { a: ok }, cache: -1 }), /`cache`/);
    // A bare string is refused: a reader could not tell ms from seconds.
    invalid(() => createHealth({ checks: { a: ok }, timeout: '15' as never }), /`timeout`/);
    invalid(
      () => createHealth({ checks: { a: ok }, drainTimeout: '-1s' as never }),
      /drainTimeout/,
    );
    invalid(() => createHealth(undefined as never), /options/);
    // Names from before Durations are refused, not ignored (`cacheMs: 0` would cache for 1 s).
    invalid(
      () => createHealth({ checks: { a: ok }, cacheMs: 0 } as never),
      /`cacheMs` was renamed `cache`/,
    );
    invalid(
      () => createHealth({ checks: { a: ok }, beforeShutdownMs: 0 } as never),
      /`beforeShutdownMs` was renamed `shutdownDelay`/,
    );
    invalid(() => createHealth({ checks: { a: 42 as never } }), /no check function/);
    expect(createHealth({ checks: { a: ok }, cache: 0, shutdownDelay: 0 }).state).toBe('ready');
    // exactOptionalPropertyTypes users may pass undefined: it means the default.
    expect(
      createHealth({ checks: { a: ok }, cache: undefined, deadline: undefined, clock: undefined })
        .state,
    ).toBe('ready');
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
      deadline: 2_000,
    });
    const t0 = performance.now();
    const r = await health.full();
    const took = performance.now() - t0;
    expect(took).toBeGreaterThanOrEqual(95);
    expect(took).toBeLessThan(600);
    expect(r.checks.stuck).toMatchObject({ status: 'timeout', reason: 'timed out after 100 ms' });
    expect(r.checks.fine?.status).toBe('ok');
    expect(r.status).toBe('unhealthy');
    expect(isTimeoutError(aborted) && aborted.timeoutMs).toBe(100);
    expect((aborted as Error).message).toContain('"stuck"');
  });

  it('takes durations with a unit', async () => {
    const health = createHealth({
      checks: { stuck: { timeout: '0.1s', check: () => new Promise(() => {}) } },
      deadline: '2s',
      cache: '1m',
    });
    const t0 = performance.now();
    const r = await health.full();
    expect(performance.now() - t0).toBeLessThan(600);
    expect(r.checks.stuck).toMatchObject({ status: 'timeout', reason: 'timed out after 100 ms' });
    expect(await health.full()).toBe(r); // cached for a minute
  });

  it('a TimeoutError the check itself throws is a failure, not a cut', async () => {
    const health = createHealth({
      checks: {
        upstream: () => Promise.reject(new TimeoutError(50, 'The upstream call')),
      },
    });
    const r = await health.full();
    expect(r.checks.upstream?.status).toBe('fail');
    expect(r.checks.upstream?.reason).toContain('The upstream call timed out after 50 ms');
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

  it('cuts the whole report at its deadline even when check timeouts are longer', async () => {
    let reason: unknown;
    const health = createHealth({
      checks: {
        a: {
          check: (signal) => {
            signal.addEventListener('abort', () => {
              reason = signal.reason;
            });
            return sleep(5_000);
          },
          timeout: 3_000,
        },
        b: { check: () => sleep(5_000), timeout: 3_000 },
        c: ok,
      },
      deadline: 150,
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
    expect(isTimeoutError(reason) && reason.timeoutMs).toBe(150);
  });

  it('runs checks concurrently: ten 100 ms checks finish in about 100 ms', async () => {
    const checks = Object.fromEntries(
      Array.from({ length: 10 }, (_, i) => [`c${i}`, { check: () => sleep(100), timeout: 1_000 }]),
    );
    const health = createHealth({ checks, deadline: 2_000 });
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
  it('reuses a report for `cache` by the injected clock; concurrent callers share one run', async () => {
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
      cache: 5_000,
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

  it('cache 0 still shares a run among concurrent callers', async () => {
    let runs = 0;
    const health = createHealth({ checks: { db: async () => void runs++ }, cache: 0 });
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
    const gone = new Error('gone');
    ac.abort(gone);
    const err = await mine.catch((e: unknown) => e);
    expect(isAbortedError(err)).toBe(true);
    expect((err as Error).cause).toBe(gone);
    expect((await other).status).toBe('healthy');
    // an already aborted signal rejects at once
    await expect(health.full({ signal: ac.signal })).rejects.toMatchObject({ code: 'ERR_ABORTED' });
  });

  it('emits report events', async () => {
    const seen: HealthReport[] = [];
    const health = createHealth({ checks: { db: ok }, cache: 10_000 });
    const off = health.on('report', (e) => seen.push(e.report));
    await health.full();
    await health.full();
    off();
    expect(seen).toHaveLength(1);
  });
});

describe('events', () => {
  it('publishes each event on org:health:<event>; once() fires once', async () => {
    const seen: unknown[] = [];
    const onReport = (m: unknown) => seen.push(m);
    diagnostics.subscribe('org:health:report', onReport);
    try {
      const health = createHealth({ checks: { db: ok }, cache: 0 });
      const kinds: string[] = [];
      health.once('report', (e) => kinds.push(e.kind));
      const r = await health.full();
      await health.quick();
      expect(kinds).toEqual(['full']);
      expect(seen).toContainEqual({ kind: 'full', report: r });
    } finally {
      diagnostics.unsubscribe('org:health:report', onReport);
    }
  });

  it('a listener that is not a function is an invalid option', () => {
    const health = createHealth({ checks: { db: ok } });
    expect(() => health.on('report', 42 as never)).toThrow(
      expect.objectContaining({ code: 'ERR_HEALTH_INVALID_OPTION' }),
    );
  });

  it('a throwing listener becomes a process warning and never breaks the report', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const health = createHealth({ checks: { db: ok } });
      health.on('report', () => {
        throw new Error('listener bug');
      });
      expect((await health.full()).status).toBe('healthy');
      await sleep(10);
      expect(warnings.some((w) => (w as { code?: string }).code === 'ORG_LISTENER_ERROR')).toBe(
        true,
      );
    } finally {
      process.off('warning', onWarning);
    }
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
      cache: 0,
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
      cache: 5_000,
      clock: { now: () => now },
    });
    await health.full();
    now -= 60_000;
    await health.full();
    expect(runs).toBe(2);
  });
});
