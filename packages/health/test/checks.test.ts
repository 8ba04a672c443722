import {
  breakersCheck,
  cacheCheck,
  createHealth,
  diskCheck,
  eventLoopCheck,
  httpCheck,
  isHealthError,
  memoryCheck,
  storageCheck,
} from '@org/health';
import { afterAll, describe, expect, it } from 'vitest';
import { listen } from './helpers.js';

describe('system checks', () => {
  it('eventLoopCheck warns when the loop was blocked, passes when it was not', async () => {
    const check = eventLoopCheck({ warnDelay: 100, failDelay: 5_000, resolution: 10 });
    const health = createHealth({ checks: { loop: check }, cache: 0 });
    await new Promise((r) => setTimeout(r, 50));
    const calm = await health.full();
    expect(calm.checks.loop).toMatchObject({
      status: 'ok',
      measurement: 'delay',
      observedUnit: 'ms',
    });
    const until = Date.now() + 250;
    while (Date.now() < until) {
      // block the event loop
    }
    await new Promise((r) => setTimeout(r, 30));
    const blocked = await health.full();
    expect(blocked.checks.loop?.status).toBe('warn');
    expect(blocked.checks.loop?.observedValue).toBeGreaterThanOrEqual(100);
    expect(blocked.status).toBe('degraded');
  });

  it('memoryCheck reports heap utilization and fails past maxRssBytes', async () => {
    const health = createHealth({
      checks: {
        mem: memoryCheck(),
        tight: memoryCheck({ warnHeapRatio: 0 }),
        rss: memoryCheck({ maxRssBytes: 1024 }),
      },
    });
    const r = await health.full();
    expect(r.checks.mem).toMatchObject({
      status: 'ok',
      measurement: 'utilization',
      observedUnit: '%',
    });
    expect(r.checks.mem?.observedValue).toBeGreaterThan(0);
    expect(r.checks.mem?.observedValue).toBeLessThan(85);
    expect(r.checks.tight?.status).toBe('warn');
    expect(r.checks.rss?.status).toBe('fail');
    expect(r.status).toBe('degraded'); // memory checks are not critical by default
  });

  it('diskCheck reports used space and fails below minFreeBytes', async () => {
    const health = createHealth({
      checks: {
        disk: diskCheck({ path: import.meta.dirname, warnFreeRatio: 0, failFreeRatio: 0 }),
        full: diskCheck({ minFreeBytes: Number.MAX_SAFE_INTEGER, critical: true }),
      },
    });
    const r = await health.full();
    expect(r.checks.disk).toMatchObject({ status: 'ok', observedUnit: '%' });
    expect((r.checks.disk!.details as { totalBytes: number }).totalBytes).toBeGreaterThan(0);
    expect(r.checks.full?.status).toBe('fail');
    expect(r.status).toBe('unhealthy');
  });
});

describe('httpCheck', async () => {
  const srv = await listen((req, res) => {
    if (req.url === '/ok') return void res.end('ok');
    if (req.url?.startsWith('/auth'))
      return void res
        .writeHead(
          req.headers.authorization === `Basic ${Buffer.from('user:pa55w0rd').toString('base64')}`
            ? 204
            : 401,
        )
        .end();
    if (req.url === '/hang') return;
    res.writeHead(500).end();
  });
  afterAll(srv.close);

  it('passes on 2xx, fails on 500, times out on a hang, never shows credentials', async () => {
    const withCreds = srv.url.replace('http://', 'http://user:pa55w0rd@');
    const health = createHealth({
      checks: {
        up: httpCheck({ url: `${srv.url}/ok` }),
        broken: httpCheck({ url: `${withCreds}/err?api_key=k3y`, critical: false }),
        hang: httpCheck({ url: `${srv.url}/hang`, timeout: 150, critical: false }),
        expected: httpCheck({ url: `${srv.url}/err`, expectStatus: 500 }),
        auth: httpCheck({ url: `${withCreds}/auth` }),
      },
    });
    const r = await health.full();
    expect(r.checks.up?.status).toBe('ok');
    expect(r.checks.broken).toMatchObject({ status: 'fail', reason: 'HTTP 500' });
    expect(r.checks.hang?.status).toBe('timeout');
    expect(r.checks.expected?.status).toBe('ok');
    expect(r.checks.auth?.status).toBe('ok');
    expect(JSON.stringify(r)).not.toMatch(/pa55w0rd|k3y/);
  });
});

describe('dependency checks (@org/cache, @org/storage shape)', () => {
  it('uses health() of the instance: unavailable fails, latency is observed', async () => {
    const cache = { health: async () => ({ available: true, latencyMs: 1.5, backend: 'redis' }) };
    const storage = { health: async () => ({ available: false, latencyMs: 3, backend: 's3' }) };
    const health = createHealth({
      checks: { cache: cacheCheck(cache), storage: storageCheck(storage, { critical: false }) },
    });
    const r = await health.full();
    expect(r.checks.cache).toMatchObject({
      status: 'ok',
      observedValue: 1.5,
      details: { backend: 'redis' },
    });
    expect(r.checks.storage).toMatchObject({ status: 'fail', reason: 's3 unavailable' });
    expect(r.status).toBe('degraded');
  });
});

describe('breakersCheck', () => {
  it('open breakers degrade the report and are named; none open is ok', async () => {
    const list: { name: string; state: string }[] = [
      { name: 'payments', state: 'closed' },
      { name: 'search', state: 'closed' },
    ];
    const health = createHealth({
      checks: { breakers: breakersCheck({ registry: { list: () => list } }) },
      cache: 0,
    });
    expect((await health.full()).status).toBe('healthy');
    list[0]!.state = 'open';
    list[1]!.state = 'halfOpen';
    const r = await health.full();
    expect(r.status).toBe('degraded');
    expect(r.checks.breakers).toMatchObject({
      status: 'warn',
      reason: 'open: payments',
      observedValue: 1,
      details: { total: 2, open: ['payments'], halfOpen: ['search'] },
    });
    const strict = createHealth({
      checks: {
        breakers: breakersCheck({
          registry: { list: () => list },
          failWhenOpen: true,
          critical: true,
        }),
      },
    });
    expect((await strict.full()).status).toBe('unhealthy');
  });
});

describe('check options', () => {
  it('are validated at construction with ERR_HEALTH_INVALID_OPTION naming the option', () => {
    const cases: [() => unknown, RegExp][] = [
      [() => httpCheck({ url: 'not a url with password=hunter2' }), /`url`/],
      [() => httpCheck({ url: 'https://x', timeout: -5 }), /`timeout`/],
      [() => httpCheck({ url: 'https://x', method: 'POST' as never }), /`method`/],
      [() => eventLoopCheck({ warnDelay: '200' as never }), /`warnDelay`/],
      [() => memoryCheck({ warnHeapRatio: 2 }), /`warnHeapRatio`/],
      [() => eventLoopCheck({ warnMs: 100 } as never), /`warnMs` was renamed `warnDelay`/],
      [() => diskCheck({ failFreeRatio: -1 }), /`failFreeRatio`/],
      [() => breakersCheck({ registry: {} as never }), /`registry`/],
      [() => cacheCheck({} as never), /health\(\)/],
      [
        () =>
          cacheCheck(
            { health: async () => ({ available: true, latencyMs: 1, backend: 'x' }) },
            { timeout: 'soon' as never },
          ),
        /`timeout`/,
      ],
    ];
    for (const [fn, message] of cases) {
      let err: unknown;
      try {
        fn();
      } catch (e) {
        err = e;
      }
      expect(isHealthError(err, 'ERR_HEALTH_INVALID_OPTION')).toBe(true);
      expect((err as Error).message).toMatch(message);
      expect((err as Error).message).not.toContain('hunter2');
    }
  });

  it('take durations with a unit, and the event-loop sampler stops at close()', async () => {
    const loop = eventLoopCheck({ warnDelay: '100ms', failDelay: '5s', resolution: '10ms' });
    const health = createHealth({
      checks: {
        loop,
        up: httpCheck({ url: 'http://127.0.0.1:1/', timeout: '0.2s', critical: false }),
      },
    });
    const r = await health.full();
    expect(r.checks.loop?.status).toBe('ok');
    expect(r.checks.up?.status).toBe('fail');
    await health.close();
    expect(loop.close).toBeTypeOf('function');
  });
});
