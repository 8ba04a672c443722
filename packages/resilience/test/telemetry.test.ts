import { randomUUID } from 'node:crypto';
import { createBreaker, createRegistry, retry } from '@org/resilience';
import { createRedisStateStore } from '@org/resilience/redis';
import { type OtelHarness, serverAvailable, startOtel } from '@org/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

let otel: OtelHarness;
beforeEach(() => {
  otel = startOtel(); // after @org/resilience was imported: late registration
});
afterEach(() => otel.close());

const CALLS = 'org.breaker.calls';
const registry = createRegistry();
const coded = (code: string) => Object.assign(new Error('upstream said no'), { code });
const clockAt = (t: { now: number }) => ({ now: () => t.now });

describe('breaker telemetry', () => {
  it('counts each attempt by outcome and breaker name, times the attempts and observes the state', async () => {
    const t = { now: 1_000 };
    let mode: 'ok' | 'fail' | 'slow' = 'ok';
    const b = createBreaker(
      async (ctx) => {
        if (mode === 'fail') throw coded('ECONNRESET');
        if (mode === 'slow')
          await new Promise((r) => ctx.signal.addEventListener('abort', r, { once: true }));
        return 'ok';
      },
      {
        name: 'payments',
        failureThreshold: 2,
        timeout: 30,
        resetTimeout: 5_000,
        clock: clockAt(t),
        fallback: () => 'cached',
        registry,
      },
    );
    const name = { 'org.breaker.name': 'payments' };
    // Made with the SDK up: the gauge reads the initial state.
    expect((await otel.points('org.breaker.state', name))[0]?.value).toBe(0);

    await b.fire();
    await b.fire();
    mode = 'slow';
    await expect(b.fire()).resolves.toBe('cached'); // a timeout answered by the fallback
    mode = 'fail';
    await expect(b.fire()).resolves.toBe('cached'); // the second failure opens it
    expect(b.state).toBe('open');
    await expect(b.fire()).resolves.toBe('cached'); // rejected, answered by the fallback

    const outcome = (o: string) => otel.sum(CALLS, { ...name, 'org.breaker.outcome': o });
    expect(await outcome('success')).toBe(2);
    expect(await outcome('timeout')).toBe(1); // counted once, not also as a failure
    expect(await outcome('failure')).toBe(1);
    expect(await outcome('rejected')).toBe(1);
    expect(await outcome('fallback')).toBe(3);
    expect(
      await otel.sum(CALLS, { 'org.breaker.outcome': 'failure', 'error.type': 'ECONNRESET' }),
    ).toBe(1);
    expect(
      await otel.sum(CALLS, { 'org.breaker.outcome': 'timeout', 'error.type': 'ERR_TIMEOUT' }),
    ).toBe(1);
    expect(
      await otel.sum(CALLS, {
        'org.breaker.outcome': 'rejected',
        'error.type': 'ERR_RESILIENCE_BREAKER_OPEN',
      }),
    ).toBe(1);

    // Four attempts ran (a rejection runs none); the timeout took at least its 30 ms.
    expect(await otel.sum('org.breaker.call.duration', name)).toBe(4);
    const [slow] = await otel.points('org.breaker.call.duration', {
      'org.breaker.outcome': 'timeout',
    });
    expect(slow?.unit).toBe('s');
    expect(slow?.sum).toBeGreaterThanOrEqual(0.029);

    expect((await otel.points('org.breaker.state', name))[0]?.value).toBe(2);
    t.now += 5_000; // the open period is over: half-open at the next collection, with no call
    expect((await otel.points('org.breaker.state', name))[0]?.value).toBe(1);
    expect(b.state).toBe('halfOpen');
    mode = 'ok';
    await b.fire();
    expect(b.state).toBe('closed');
    expect((await otel.points('org.breaker.state', name))[0]?.value).toBe(0);
    await b.close();
  });

  it('observes the state of a breaker made before the SDK was registered, with no call in between', async () => {
    await otel.close();
    const t = { now: 1_000 };
    const b = createBreaker(async () => 1, {
      name: 'early',
      registry,
      resetTimeout: 1_000,
      clock: clockAt(t),
    });
    b.trip();
    otel = startOtel();
    await Promise.resolve(); // the gauges attach in the microtask after the registration
    const early = { 'org.breaker.name': 'early' };
    expect((await otel.points('org.breaker.state', early))[0]?.value).toBe(2);
    t.now += 1_000;
    expect((await otel.points('org.breaker.state', early))[0]?.value).toBe(1);
    await b.close();
  });

  it('stops observing a breaker once it is closed', async () => {
    const t = { now: 1_000 };
    const opts = { registry, resetTimeout: 1_000, clock: clockAt(t) };
    const closed = createBreaker(async () => 1, { ...opts, name: 'closed-one' });
    const live = createBreaker(async () => 1, { ...opts, name: 'live-one' });
    closed.trip();
    live.trip();
    const state = async (breaker: string) =>
      (await otel.points('org.breaker.state', { 'org.breaker.name': breaker }))[0]?.value;
    expect(await state('closed-one')).toBe(2);
    await closed.close();
    t.now += 1_000;
    expect(await state('live-one')).toBe(1);
    // Not read any more: the SDK's cumulative reader repeats the last value it saw.
    expect(await state('closed-one')).toBe(2);
    // A provider registered now never sees it; the live breaker it does.
    await otel.close();
    otel = startOtel();
    await Promise.resolve();
    expect(await state('closed-one')).toBeUndefined();
    expect(await state('live-one')).toBe(1);
    await live.close();
  });

  it('records the attempts of each retried call by outcome, with the breaker name through a breaker', async () => {
    let n = 0;
    await retry(
      async () => {
        if (++n < 3) throw Object.assign(new Error('busy'), { status: 503 });
        return 'ok';
      },
      { minDelay: 1, maxDelay: 2 },
    );
    await retry(
      async () => {
        throw Object.assign(new Error('busy'), { status: 503 });
      },
      { attempts: 2, minDelay: 1, maxDelay: 2 },
    ).catch(() => {});
    await retry(
      async () => {
        throw Object.assign(new Error('gone'), { status: 404 });
      },
      { minDelay: 1 },
    ).catch(() => {});
    const success = await otel.points('org.retry.attempts', { 'org.retry.outcome': 'success' });
    expect(success).toHaveLength(1);
    expect(success[0]).toMatchObject({ value: 1, sum: 3, unit: '{attempt}' });
    expect(success[0]?.attributes['org.breaker.name']).toBeUndefined();
    const [exhausted] = await otel.points('org.retry.attempts', {
      'org.retry.outcome': 'exhausted',
      'error.type': 'ERR_RESILIENCE_RETRY_EXHAUSTED',
    });
    expect(exhausted?.sum).toBe(2);
    expect(
      (await otel.points('org.retry.attempts', { 'org.retry.outcome': 'not_retried' }))[0]?.sum,
    ).toBe(1);

    const ac = new AbortController();
    const b = createBreaker(
      async () => {
        ac.abort();
        throw Object.assign(new Error('busy'), { status: 503 });
      },
      { name: 'search', retry: { attempts: 3, minDelay: 1 }, failureThreshold: 10, registry },
    );
    await b.fireWith({ signal: ac.signal }).catch(() => {});
    const [aborted] = await otel.points('org.retry.attempts', {
      'org.retry.outcome': 'aborted',
      'org.breaker.name': 'search',
    });
    expect(aborted).toMatchObject({ value: 1, sum: 1 });
    await b.close();
  });

  it('records nothing and changes no result with no SDK', async () => {
    await otel.close();
    const b = createBreaker(async (_ctx, x: number) => x * 2, { name: 'off', registry });
    expect(await b.fire(21)).toBe(42);
    otel = startOtel();
    expect(await otel.points(CALLS)).toEqual([]);
    await b.close();
  });
});

describe.runIf(await serverAvailable('Redis', 6379))(
  'shared-state store spans on Redis (127.0.0.1:6379)',
  () => {
    it('runs each Redis command in a client span under the caller’s span', async () => {
      const store = await createRedisStateStore({
        redis: 'redis://127.0.0.1:6379',
        prefix: `test:otel:${randomUUID()}`,
        timeout: 2_000,
      });
      const b = createBreaker(
        async () => {
          throw coded('ECONNREFUSED');
        },
        { name: 'shared', failureThreshold: 1, sharedState: store, registry },
      );
      const parent = await otel.inSpan('request', async () => {
        await b.fire().catch(() => {});
      });
      // The publish is not awaited by fire(): wait for its span.
      for (let i = 0; i < 100 && otel.spans('breaker store MULTI SET PUBLISH').length === 0; i++)
        await new Promise((r) => setTimeout(r, 10));
      const [publish] = otel.spans('breaker store MULTI SET PUBLISH');
      expect(publish?.kind).toBe(2); // SpanKind.CLIENT
      expect(publish?.parentSpanContext?.spanId).toBe(parent);
      expect(publish?.attributes).toMatchObject({
        'db.system.name': 'redis',
        'db.operation.name': 'MULTI SET PUBLISH',
      });
      expect(publish?.status.code).not.toBe(2);
      await b.close();
      await store.close();
    });
  },
);
