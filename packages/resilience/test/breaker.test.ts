import { isOrgError } from '@org/core';
import {
  BreakerOpenError,
  breakers,
  createBreaker,
  createRegistry,
  isAbortedError,
  isBreakerOpenError,
  isBulkheadRejectedError,
  isResilienceError,
  isTimeoutError,
  ResilienceError,
  ResilienceErrorCode,
  TimeoutError,
} from '@org/resilience';
import { afterEach, describe, expect, it, vi } from 'vitest';

const registry = createRegistry();
const boom = () => Object.assign(new Error('upstream 503'), { status: 503 });

afterEach(async () => {
  vi.useRealTimers();
  await registry.close();
});

describe('presets', () => {
  it.each([
    ['openai', 5, 60_000],
    ['anthropic', 3, 30_000],
    ['stripe', 3, 30_000],
    ['resend', 5, 60_000],
  ] as const)(
    '%s opens after failure %i for %i ms, then rejects without calling fn',
    async (preset, failures, openMs) => {
      vi.useFakeTimers({ now: 0 });
      const fn = vi.fn(async () => {
        throw boom();
      });
      const b = createBreaker(fn, { preset, registry });
      for (let i = 1; i < failures; i++) {
        await expect(b.fire()).rejects.toThrow('upstream 503');
        expect(b.state).toBe('closed');
      }
      await expect(b.fire()).rejects.toThrow('upstream 503');
      expect(b.state).toBe('open');
      expect(fn).toHaveBeenCalledTimes(failures);
      const err = await b.fire().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BreakerOpenError);
      expect(err).toMatchObject({ code: 'ERR_RESILIENCE_BREAKER_OPEN', retryAfterMs: openMs });
      expect(fn).toHaveBeenCalledTimes(failures);
      vi.setSystemTime(openMs - 1);
      expect(b.state).toBe('open');
      vi.setSystemTime(openMs);
      expect(b.state).toBe('halfOpen');
    },
  );

  it('any preset field can be overridden', async () => {
    const fn = vi.fn(async () => {
      throw boom();
    });
    const b = createBreaker(fn, { preset: 'openai', failureThreshold: 2, registry });
    await b.fire().catch(() => {});
    await b.fire().catch(() => {});
    expect(b.state).toBe('open');
  });

  it('an unknown preset is refused with a code', () => {
    // @ts-expect-error not a preset
    expect(() => createBreaker(async () => 1, { preset: 'nope' })).toThrow(
      expect.objectContaining({ code: 'ERR_RESILIENCE_INVALID_OPTION' }),
    );
  });
});

describe('state machine through the breaker', () => {
  it('closed → open → halfOpen → closed, and → open again with a longer period', async () => {
    vi.useFakeTimers({ now: 0 });
    let healthy = false;
    const fn = vi.fn(async () => {
      if (!healthy) throw boom();
      return 'ok';
    });
    const seen: string[] = [];
    const b = createBreaker(fn, { failureThreshold: 2, resetTimeout: 1_000, registry });
    b.on('open', (i) => seen.push(`open:${i.openUntil}`));
    b.on('halfOpen', () => seen.push('halfOpen'));
    b.on('close', () => seen.push('close'));
    await b.fire().catch(() => {});
    await b.fire().catch(() => {});
    vi.setSystemTime(1_000);
    await expect(b.fire()).rejects.toThrow('upstream 503'); // the probe fails
    expect(b.state).toBe('open');
    vi.setSystemTime(2_999);
    await expect(b.fire()).rejects.toBeInstanceOf(BreakerOpenError);
    vi.setSystemTime(3_000);
    healthy = true;
    await expect(b.fire()).resolves.toBe('ok');
    expect(b.state).toBe('closed');
    expect(seen).toEqual(['open:1000', 'halfOpen', 'open:3000', 'halfOpen', 'close']);
    expect(fn).toHaveBeenCalledTimes(4);
  });

  it('needs no timer: an open breaker leaves nothing scheduled', async () => {
    vi.useFakeTimers({ now: 0 });
    const b = createBreaker(
      async () => {
        throw boom();
      },
      { failureThreshold: 1, timeout: false, registry },
    );
    await b.fire().catch(() => {});
    expect(b.state).toBe('open');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('percentage mode opens once the volume threshold is met and the rate exceeded', async () => {
    let fail = false;
    const b = createBreaker(
      async () => {
        if (fail) throw boom();
        return 1;
      },
      { errorThresholdPercentage: 50, volumeThreshold: 6, registry },
    );
    for (let i = 0; i < 3; i++) await b.fire();
    fail = true;
    await b.fire().catch(() => {});
    await b.fire().catch(() => {});
    expect(b.state).toBe('closed'); // 2/5: under volume
    await b.fire().catch(() => {});
    expect(b.state).toBe('closed'); // 3/6 = 50 %: not above
    await b.fire().catch(() => {});
    expect(b.state).toBe('open'); // 4/7
  });

  it('a 4xx is the caller’s mistake: it reaches the caller but does not open the breaker', async () => {
    const fallback = vi.fn(async () => 'fb');
    const b = createBreaker(
      async () => {
        throw Object.assign(new Error('not found'), { status: 404 });
      },
      { failureThreshold: 1, fallback, registry },
    );
    for (let i = 0; i < 3; i++) await expect(b.fire()).rejects.toThrow('not found');
    expect(b.state).toBe('closed');
    expect(fallback).not.toHaveBeenCalled();
  });

  it('custom isFailure decides what counts', async () => {
    const b = createBreaker(
      async () => {
        throw new Error('soft');
      },
      { failureThreshold: 1, isFailure: (e) => (e as Error).message !== 'soft', registry },
    );
    await b.fire().catch(() => {});
    expect(b.state).toBe('closed');
  });

  it('the fallback answers for failures and for an open breaker', async () => {
    const b = createBreaker(
      async (_ctx, _id: number) => {
        throw boom();
      },
      {
        failureThreshold: 1,
        fallback: (err, id) => `cached-${id}:${isBreakerOpenError(err)}`,
        registry,
      },
    );
    const events: string[] = [];
    b.on('fallback', () => events.push('fallback'));
    await expect(b.fire(7)).resolves.toBe('cached-7:false');
    await expect(b.fire(8)).resolves.toBe('cached-8:true');
    expect(events).toEqual(['fallback', 'fallback']);
    expect(b.stats()).toMatchObject({ fallbacks: 2, rejects: 1, failures: 1 });
  });

  it('state saved with toJSON() is restored with initialState', async () => {
    vi.useFakeTimers({ now: 0 });
    const fail = async () => {
      throw boom();
    };
    const a = createBreaker(fail, { failureThreshold: 1, resetTimeout: 5_000, registry });
    await a.fire().catch(() => {});
    vi.setSystemTime(2_000);
    const saved = JSON.parse(JSON.stringify(a));
    const b = createBreaker(fail, {
      failureThreshold: 1,
      resetTimeout: 5_000,
      initialState: saved,
      registry,
    });
    expect(b.state).toBe('open');
    await expect(b.fire()).rejects.toMatchObject({ retryAfterMs: 3_000 });
  });

  it('half-open lets N probes through and closes after the success threshold', async () => {
    vi.useFakeTimers({ now: 0 });
    let healthy = false;
    const calls: number[] = [];
    const release: (() => void)[] = [];
    const b = createBreaker(
      async (_ctx, n: number) => {
        calls.push(n);
        if (!healthy) throw boom();
        await new Promise<void>((r) => release.push(r));
        return n;
      },
      {
        failureThreshold: 1,
        resetTimeout: 100,
        halfOpenProbes: 2,
        successThreshold: 2,
        timeout: false,
        registry,
      },
    );
    await b.fire(0).catch(() => {});
    vi.setSystemTime(100);
    healthy = true;
    const p1 = b.fire(1);
    const p2 = b.fire(2);
    await expect(b.fire(3)).rejects.toBeInstanceOf(BreakerOpenError);
    await vi.waitFor(() => expect(release).toHaveLength(2));
    for (const r of release) r();
    await expect(Promise.all([p1, p2])).resolves.toEqual([1, 2]);
    expect(b.state).toBe('closed');
    expect(calls).toEqual([0, 1, 2]);
  });
});

describe('timeouts and abort', () => {
  it('a timeout aborts that attempt’s signal only; the next call gets a fresh one (opossum #861)', async () => {
    const signals: AbortSignal[] = [];
    const b = createBreaker(
      (ctx, ms: number) =>
        new Promise<string>((resolve, reject) => {
          signals.push(ctx.signal);
          const t = setTimeout(() => resolve('done'), ms);
          ctx.signal.addEventListener('abort', () => {
            clearTimeout(t);
            reject(ctx.signal.reason);
          });
        }),
      { timeout: 30, failureThreshold: 10, registry },
    );
    const err = await b.fire(1_000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(isTimeoutError(err)).toBe(true);
    expect(err).toMatchObject({ code: 'ERR_TIMEOUT', timeoutMs: 30 });
    expect(signals[0]?.aborted).toBe(true);
    await expect(b.fire(1)).resolves.toBe('done');
    expect(signals[1]?.aborted).toBe(false);
    expect(b.stats()).toMatchObject({ timeouts: 1, failures: 1, successes: 1 });
  });

  it('a call that ignores its signal and never settles is still cut at the timeout', async () => {
    const b = createBreaker(() => new Promise(() => {}), { timeout: 20, registry });
    const t0 = Date.now();
    await expect(b.fire()).rejects.toBeInstanceOf(TimeoutError);
    expect(Date.now() - t0).toBeLessThan(2_000);
  });

  it('an abort before the call refuses to start it', async () => {
    const fn = vi.fn(async () => 1);
    const b = createBreaker(fn, { registry });
    const ac = new AbortController();
    ac.abort(new Error('user left'));
    const err = await b.fireWith({ signal: ac.signal }).catch((e: unknown) => e);
    expect(isAbortedError(err)).toBe(true);
    expect(fn).not.toHaveBeenCalled();
  });

  it('an abort during the attempt rejects at once and aborts the attempt’s signal', async () => {
    let inner: AbortSignal | undefined;
    const b = createBreaker(
      (ctx) => {
        inner = ctx.signal;
        return new Promise(() => {});
      },
      { failureThreshold: 1, registry },
    );
    const ac = new AbortController();
    const p = b.fireWith({ signal: ac.signal });
    await vi.waitFor(() => expect(inner).toBeDefined());
    ac.abort();
    await expect(p).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    expect(inner?.aborted).toBe(true);
    // The caller's abort says nothing about the upstream.
    expect(b.state).toBe('closed');
  });

  it('an abort during a retry wait stops at once, with no further attempt', async () => {
    const fn = vi.fn(async () => {
      throw boom();
    });
    const b = createBreaker(fn, {
      failureThreshold: 100,
      retry: { attempts: 5, minDelay: 10_000, random: () => 0.99 },
      registry,
    });
    const ac = new AbortController();
    const p = b.fireWith({ signal: ac.signal });
    await vi.waitFor(() => expect(fn).toHaveBeenCalledTimes(1));
    const t0 = Date.now();
    ac.abort();
    await expect(p).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('an abort while queued in the bulkhead leaves the queue', async () => {
    let release!: () => void;
    const b = createBreaker(
      () =>
        new Promise<void>((r) => {
          release = r;
        }),
      { bulkhead: { maxConcurrent: 1, maxQueue: 1 }, timeout: false, registry },
    );
    const first = b.fire();
    const ac = new AbortController();
    const queued = b.fireWith({ signal: ac.signal });
    ac.abort();
    await expect(queued).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    release();
    await first;
  });
});

describe('bulkhead', () => {
  it('caps concurrent calls, queues up to maxQueue, and refuses the rest', async () => {
    let active = 0;
    let peak = 0;
    const b = createBreaker(
      async () => {
        active++;
        peak = Math.max(peak, active);
        await new Promise((r) => setTimeout(r, 20));
        active--;
        return 'ok';
      },
      { bulkhead: { maxConcurrent: 2, maxQueue: 2 }, registry },
    );
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => b.fire()));
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    const refused = results.filter(
      (r) => r.status === 'rejected' && isBulkheadRejectedError(r.reason),
    ).length;
    expect({ ok, refused, peak }).toEqual({ ok: 4, refused: 2, peak: 2 });
    expect(b.state).toBe('closed');
  });
});

describe('retry composed with the breaker', () => {
  it('retries transient failures and succeeds', async () => {
    let n = 0;
    const b = createBreaker(
      async () => {
        if (++n < 3) throw boom();
        return n;
      },
      { failureThreshold: 5, retry: { attempts: 3, minDelay: 1 }, registry },
    );
    await expect(b.fire()).resolves.toBe(3);
  });

  it('never retries into an open breaker', async () => {
    const fn = vi.fn(async () => {
      throw boom();
    });
    const b = createBreaker(fn, {
      failureThreshold: 2,
      retry: { attempts: 10, minDelay: 1 },
      registry,
    });
    const err = await b.fire().catch((e: unknown) => e);
    expect(fn).toHaveBeenCalledTimes(2);
    expect(b.state).toBe('open');
    expect((err as Error).message).toBe('upstream 503');
    await expect(b.fire()).rejects.toBeInstanceOf(BreakerOpenError);
    expect(fn).toHaveBeenCalledTimes(2);
  });
});

describe('registry, events, errors', () => {
  it('joins the process-wide registry by name and leaves it on close()', async () => {
    const b = createBreaker(async () => 1, { name: 'payments-test' });
    expect(breakers.get('payments-test')).toBe(b);
    expect(breakers.list()).toContain(b);
    const closing = b.close();
    // It leaves at once, before the promise settles: a health check right after sees it gone.
    expect(breakers.get('payments-test')).toBeUndefined();
    await closing;
    await expect(b.close()).resolves.toBeUndefined();
    await expect(b.fire()).rejects.toMatchObject({ code: 'ERR_RESILIENCE_BREAKER_SHUTDOWN' });
  });

  it('the registry is shared by every copy of the package', async () => {
    const key = Symbol.for('@org/resilience.registry');
    expect((globalThis as Record<symbol, unknown>)[key]).toBe(breakers);
  });

  it('listeners unsubscribe, and a throwing listener never breaks the call', async () => {
    const b = createBreaker(async () => 1, { registry });
    const seen: number[] = [];
    const off = b.on('success', ({ latencyMs }) => seen.push(latencyMs));
    b.on('success', () => {
      throw new Error('bad listener');
    });
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    await b.fire();
    off();
    await b.fire();
    expect(seen).toHaveLength(1);
    expect(warn).toHaveBeenCalled();
    warn.mockRestore();
  });

  it('errors carry stable codes and guards that do not rely on instanceof', () => {
    const err = new BreakerOpenError('x', 10);
    const clone = Object.assign(Object.create(Error.prototype), err);
    Object.defineProperty(clone, Symbol.for('@org/core.error'), { value: true });
    expect(isResilienceError(err)).toBe(true);
    expect(isResilienceError(err, ResilienceErrorCode.BreakerOpen)).toBe(true);
    expect(isResilienceError(err, ResilienceErrorCode.BulkheadFull)).toBe(false);
    expect(isOrgError(err)).toBe(true);
    expect(err).toBeInstanceOf(ResilienceError);
    expect(err).toMatchObject({ name: 'BreakerOpenError', code: 'ERR_RESILIENCE_BREAKER_OPEN' });
    expect(isBreakerOpenError(clone)).toBe(true);
    expect(isResilienceError(clone)).toBe(true);
    expect(isBreakerOpenError(new Error('x'))).toBe(false);
    expect(isBreakerOpenError({ code: 'ERR_RESILIENCE_BREAKER_OPEN' })).toBe(false);
  });

  it.each([
    [{ timeout: -1 }, 'timeout'],
    [{ failureThreshold: 0 }, 'failureThreshold'],
    [{ errorThresholdPercentage: 101 }, 'errorThresholdPercentage'],
    [{ halfOpenProbes: 1.5 }, 'halfOpenProbes'],
    [{ bulkhead: 0 }, 'bulkhead.maxConcurrent'],
    [{ resetTimeout: Number.NaN }, 'resetTimeout'],
  ])('refuses bad options %o naming %s', (opts, name) => {
    expect(() => createBreaker(async () => 1, { ...opts, registry })).toThrow(
      expect.objectContaining({
        code: 'ERR_RESILIENCE_INVALID_OPTION',
        message: expect.stringContaining(name),
      }),
    );
  });

  it('publishes state changes on diagnostics_channel', async () => {
    const { subscribe, unsubscribe } = await import('node:diagnostics_channel');
    const seen: unknown[] = [];
    const listener = (m: unknown) => seen.push(m);
    subscribe('org:resilience:stateChange', listener);
    const b = createBreaker(
      async () => {
        throw boom();
      },
      { name: 'dc-test', failureThreshold: 1, registry },
    );
    await b.fire().catch(() => {});
    unsubscribe('org:resilience:stateChange', listener);
    expect(seen).toEqual([{ name: 'dc-test', from: 'closed', to: 'open', remote: false }]);
  });

  it('a breaker rejecting fast never calls fn and reports it', async () => {
    const fn = vi.fn(async () => {
      throw boom();
    });
    const b = createBreaker(fn, { failureThreshold: 1, registry });
    const rejects: unknown[] = [];
    b.on('reject', (e) => rejects.push(e));
    await b.fire().catch(() => {});
    await Promise.allSettled(Array.from({ length: 10 }, () => b.fire()));
    expect(fn).toHaveBeenCalledTimes(1);
    expect(rejects).toHaveLength(10);
    expect(b.stats().rejects).toBe(10);
  });
});

describe('the @org/core contract', () => {
  it('trip() forces the breaker open and reset() forces it closed, with their events', async () => {
    vi.useFakeTimers({ now: 0 });
    const fn = vi.fn(async () => 'ok');
    const b = createBreaker(fn, { resetTimeout: '2s', registry });
    const seen: string[] = [];
    b.on('open', ({ name, openUntil, remote }) => seen.push(`open:${name}:${openUntil}:${remote}`));
    b.on('close', ({ remote }) => seen.push(`close:${remote}`));
    b.trip();
    expect(b.state).toBe('open');
    await expect(b.fire()).rejects.toMatchObject({ code: 'ERR_RESILIENCE_BREAKER_OPEN' });
    b.reset();
    expect(b.state).toBe('closed');
    await expect(b.fire()).resolves.toBe('ok');
    expect(fn).toHaveBeenCalledTimes(1);
    expect(seen).toEqual([`open:${b.name}:2000:false`, 'close:false']);
  });

  it('close() releases only: idempotent, no state forced, later calls refused', async () => {
    const b = createBreaker(async () => 1, { registry });
    const seen: unknown[] = [];
    b.on('close', (e) => seen.push(e));
    await b.close();
    await b.close();
    expect(registry.get(b.name)).toBeUndefined();
    expect(seen).toEqual([]);
    const err = await b.fire().catch((e: unknown) => e);
    expect(isResilienceError(err, ResilienceErrorCode.BreakerShutdown)).toBe(true);
  });

  it('registry.close() releases every breaker it holds and stays usable', async () => {
    const own = createRegistry();
    const a = createBreaker(async () => 1, { name: 'a', registry: own });
    const b = createBreaker(async () => 1, { name: 'b', registry: own });
    await own.close();
    await own.close();
    expect(own.list()).toEqual([]);
    await expect(a.fire()).rejects.toMatchObject({ code: 'ERR_RESILIENCE_BREAKER_SHUTDOWN' });
    await expect(b.fire()).rejects.toMatchObject({ code: 'ERR_RESILIENCE_BREAKER_SHUTDOWN' });
    const c = createBreaker(async () => 1, { name: 'c', registry: own });
    expect(own.get('c')).toBe(c);
    await own.close();
  });

  it('takes every duration as a Duration: ms as a number, or a string with its unit', async () => {
    vi.useFakeTimers({ now: 0 });
    const b = createBreaker(
      async () => {
        throw boom();
      },
      {
        failureThreshold: 1,
        timeout: '2s',
        resetTimeout: '1.5s',
        maxResetTimeout: '1m',
        rollingCountTimeout: '10s',
        registry,
      },
    );
    await b.fire().catch(() => {});
    await expect(b.fire()).rejects.toMatchObject({ retryAfterMs: 1_500 });
    expect(() => createBreaker(async () => 1, { resetTimeout: '30' as never, registry })).toThrow(
      expect.objectContaining({
        code: 'ERR_RESILIENCE_INVALID_OPTION',
        message: expect.stringContaining('resetTimeout'),
      }),
    );
  });

  it('reads time from the injected Clock', async () => {
    let now = 10_000;
    const b = createBreaker(
      async () => {
        throw boom();
      },
      { failureThreshold: 1, resetTimeout: 1_000, clock: { now: () => now }, registry },
    );
    await b.fire().catch(() => {});
    expect(b.toJSON()).toMatchObject({ state: 'open', openUntil: 11_000 });
    now = 10_999;
    expect(b.state).toBe('open');
    now = 11_000;
    expect(b.state).toBe('halfOpen');
  });

  it('a breaker timeout is core’s TimeoutError, and once() hears one event', async () => {
    const b = createBreaker(() => new Promise(() => {}), { timeout: 20, registry });
    const timeouts: unknown[] = [];
    b.once('timeout', ({ error }) => timeouts.push(error));
    const err = await b.fire().catch((e: unknown) => e);
    await b.fire().catch(() => {});
    expect(isOrgError(err, 'ERR_TIMEOUT')).toBe(true);
    expect(err).toMatchObject({ name: 'TimeoutError', timeoutMs: 20 });
    expect(timeouts).toEqual([err]);
  });

  it('publishes each event with its payload on org:resilience:<event>', async () => {
    const { subscribe, unsubscribe } = await import('node:diagnostics_channel');
    const seen: [string, unknown][] = [];
    const on = (event: string) => {
      const listener = (m: unknown) => seen.push([event, m]);
      subscribe(`org:resilience:${event}`, listener);
      return () => unsubscribe(`org:resilience:${event}`, listener);
    };
    const offs = ['open', 'failure', 'reject'].map(on);
    const b = createBreaker(
      async () => {
        throw boom();
      },
      { name: 'dc-events', failureThreshold: 1, resetTimeout: 60_000, registry },
    );
    await b.fire().catch(() => {});
    await b.fire().catch(() => {});
    for (const off of offs) off();
    expect(seen.map(([e]) => e)).toEqual(['failure', 'open', 'reject']);
    expect(seen[0]?.[1]).toMatchObject({ name: 'dc-events', latencyMs: expect.any(Number) });
    expect(seen[1]?.[1]).toMatchObject({ name: 'dc-events', trips: 1, remote: false });
    expect(seen[2]?.[1]).toMatchObject({
      name: 'dc-events',
      error: expect.objectContaining({ code: 'ERR_RESILIENCE_BREAKER_OPEN' }),
    });
  });

  it('stats report times in milliseconds, named so', async () => {
    const b = createBreaker(async () => 1, { registry });
    await b.fire();
    expect(b.stats()).toMatchObject({
      latencyMeanMs: expect.any(Number),
      p50Ms: expect.any(Number),
      p95Ms: expect.any(Number),
      p99Ms: expect.any(Number),
    });
  });

  it('refuses a fn or a listener that is not a function with its own code, not a TypeError', () => {
    expect(() => createBreaker(42 as never)).toThrow(
      expect.objectContaining({ code: 'ERR_RESILIENCE_INVALID_OPTION' }),
    );
    const b = createBreaker(async () => 1, { registry });
    expect(() => b.on('open', 'nope' as never)).toThrow(
      expect.objectContaining({ code: 'ERR_RESILIENCE_INVALID_OPTION' }),
    );
  });
});

describe('the attempt runner and the rolling window', () => {
  it('the window turns on the clock: failures older than rollingCountTimeout no longer count', async () => {
    let now = 0;
    const b = createBreaker(
      async () => {
        throw boom();
      },
      {
        errorThresholdPercentage: 50,
        volumeThreshold: 4,
        rollingCountTimeout: 1_000,
        rollingCountBuckets: 10,
        clock: { now: () => now },
        registry,
      },
    );
    for (let i = 0; i < 3; i++) await b.fire().catch(() => {});
    expect(b.stats()).toMatchObject({ fires: 3, failures: 3 });
    now = 950;
    expect(b.stats()).toMatchObject({ fires: 3, failures: 3 });
    now = 1_000;
    expect(b.stats()).toMatchObject({ fires: 0, failures: 0 });
    // Under the volume threshold again: the old failures do not open it.
    await b.fire().catch(() => {});
    expect(b.state).toBe('closed');
    expect(b.stats()).toMatchObject({ fires: 1, failures: 1 });
  });

  it('counts a plain value as a success and a synchronous throw as a failure', async () => {
    const b = createBreaker(
      (_ctx, x: number) => {
        if (x < 0) throw boom();
        return x * 2;
      },
      { failureThreshold: 5, registry },
    );
    await expect(b.fire(2)).resolves.toBe(4);
    await expect(b.fire(-1)).rejects.toThrow('upstream 503');
    expect(b.stats()).toMatchObject({ fires: 2, successes: 1, failures: 1 });
    expect(b.toJSON().consecutiveFailures).toBe(1);
  });

  it('an error isFailure refuses reaches the caller and counts as a success', async () => {
    const b = createBreaker(
      async () => {
        throw Object.assign(new Error('bad request'), { status: 400 });
      },
      { failureThreshold: 1, registry },
    );
    const seen: number[] = [];
    b.on('success', ({ latencyMs }) => seen.push(latencyMs));
    await expect(b.fire()).rejects.toThrow('bad request');
    expect(b.stats()).toMatchObject({ successes: 1, failures: 0 });
    expect(seen).toHaveLength(1);
  });

  it('one timer bounds every call in flight; an answer after the cut changes nothing', async () => {
    vi.useFakeTimers({ now: 0 });
    const release: ((v: string) => void)[] = [];
    const b = createBreaker(
      () =>
        new Promise<string>((r) => {
          release.push(r);
        }),
      { timeout: 1_000, failureThreshold: 10, registry },
    );
    const first = b.fire();
    await vi.advanceTimersByTimeAsync(400);
    const second = b.fire().catch((e: unknown) => e);
    expect(vi.getTimerCount()).toBe(1);
    release[0]?.('ok');
    await expect(first).resolves.toBe('ok');
    // The second call is cut at its own deadline (1 400 ms), not the first one's.
    await vi.advanceTimersByTimeAsync(999);
    expect(b.stats().timeouts).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(await second).toMatchObject({ code: 'ERR_TIMEOUT', timeoutMs: 1_000 });
    release[1]?.('too late');
    await Promise.resolve();
    expect(b.stats()).toMatchObject({ successes: 1, timeouts: 1, failures: 1 });
  });

  it('cuts staggered calls each at its own deadline, and keeps the process alive only while calls are in flight', async () => {
    const timers = vi.spyOn(globalThis, 'setTimeout');
    const ours = () =>
      timers.mock.calls
        .map((call, i) => [call[1], timers.mock.results[i]?.value] as const)
        .filter(([ms]) => ms !== 30)
        .map(([, t]) => t as NodeJS.Timeout);
    const b = createBreaker(() => new Promise(() => {}), {
      timeout: 60,
      failureThreshold: 100,
      registry,
    });
    const t0 = performance.now();
    const cut = () =>
      b.fire().then(
        () => Number.NaN,
        () => performance.now() - t0,
      );
    const a = cut();
    await new Promise((r) => setTimeout(r, 30));
    const c = cut();
    // One timer for both calls, holding the process while they are in flight.
    expect(ours()).toHaveLength(1);
    expect(ours()[0]?.hasRef()).toBe(true);
    const [ta, tc] = await Promise.all([a, c]);
    // (The exact deadlines are checked with fake timers above; here, real ones.)
    expect(ta).toBeGreaterThanOrEqual(55);
    expect(tc).toBeGreaterThanOrEqual(85);
    expect(b.stats().timeouts).toBe(2);
    // A call that succeeds leaves the timer armed but no longer holding the process.
    const quick = createBreaker(async () => 1, { timeout: 10_000, registry });
    const before = ours().length;
    await quick.fire();
    const made = ours().slice(before);
    expect(made).toHaveLength(1);
    expect(made[0]?.hasRef()).toBe(false);
    timers.mockRestore();
  });
});
