import { isOrgError } from '@org/core';
import {
  createBreaker,
  createRegistry,
  fullJitterDelay,
  isRetryExhaustedError,
  isTimeoutError,
  parseRetryAfter,
  RetryExhaustedError,
  retry,
  retryAfterMs,
  retryPolicy,
  wrap,
} from '@org/resilience';
import { afterEach, describe, expect, it, vi } from 'vitest';

afterEach(() => vi.useRealTimers());
const fail = (status = 503) => Object.assign(new Error(`status ${status}`), { status });

describe('backoff with full jitter', () => {
  it('stays within [0, min(maxDelay, minDelay·2ⁿ⁻¹)) for every retry', () => {
    for (let n = 1; n <= 12; n++) {
      const ceiling = Math.min(5_000, 100 * 2 ** (n - 1));
      for (let i = 0; i < 200; i++) {
        const d = fullJitterDelay(n, 100, 5_000);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThan(ceiling);
      }
      expect(fullJitterDelay(n, 100, 5_000, () => 0)).toBe(0);
      expect(fullJitterDelay(n, 100, 5_000, () => 0.999999)).toBe(Math.floor(0.999999 * ceiling));
    }
  });

  it('spreads delays over the whole window (not bunched at the ceiling)', () => {
    const samples = Array.from({ length: 2_000 }, () => fullJitterDelay(4, 100, 10_000));
    const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
    expect(mean).toBeGreaterThan(300);
    expect(mean).toBeLessThan(500);
  });
});

describe('retry', () => {
  it('waits the jittered delays between attempts and gives up after `attempts`', async () => {
    vi.useFakeTimers({ now: 0 });
    const delays: number[] = [];
    const fn = vi.fn(async () => {
      throw fail();
    });
    const p = retry(fn, {
      attempts: 4,
      minDelay: 100,
      maxDelay: 250,
      random: () => 0.5,
      onRetry: (i) => delays.push(i.delayMs),
    });
    const settled = p.catch((e: unknown) => e);
    await vi.runAllTimersAsync();
    const err = await settled;
    expect(delays).toEqual([50, 100, 125]);
    expect(fn).toHaveBeenCalledTimes(4);
    expect(err).toBeInstanceOf(RetryExhaustedError);
    expect(err).toMatchObject({ code: 'ERR_RESILIENCE_RETRY_EXHAUSTED', attempts: 4 });
    expect((err as Error).cause).toMatchObject({ status: 503 });
    expect(Date.now()).toBe(275);
  });

  it('returns the first success and passes the attempt number', async () => {
    const seen: number[] = [];
    const v = await retry(
      async ({ attempt }) => {
        seen.push(attempt);
        if (attempt < 3) throw fail();
        return 'ok';
      },
      { minDelay: 1 },
    );
    expect(v).toBe('ok');
    expect(seen).toEqual([1, 2, 3]);
  });

  it('rethrows at once what retryOn refuses (a 404 is not retried by default)', async () => {
    const fn = vi.fn(async () => {
      throw fail(404);
    });
    await expect(retry(fn, { minDelay: 1 })).rejects.toMatchObject({ status: 404 });
    expect(fn).toHaveBeenCalledTimes(1);
    const custom = vi.fn(async () => {
      throw fail(500);
    });
    await expect(retry(custom, { retryOn: () => false })).rejects.toMatchObject({ status: 500 });
    expect(custom).toHaveBeenCalledTimes(1);
  });

  it('retries 408 and 429, honouring Retry-After (seconds and HTTP date)', async () => {
    vi.useFakeTimers({ now: 0 });
    const delays: number[] = [];
    let n = 0;
    const p = retry(
      async () => {
        n++;
        if (n === 1) throw Object.assign(fail(429), { headers: { 'retry-after': '2' } });
        if (n === 2)
          throw Object.assign(fail(408), {
            headers: new Headers({ 'retry-after': new Date(2_000 + 3_000).toUTCString() }),
          });
        return n;
      },
      { minDelay: 10, maxDelay: 10_000, random: () => 0, onRetry: (i) => delays.push(i.delayMs) },
    );
    await vi.runAllTimersAsync();
    await expect(p).resolves.toBe(3);
    expect(delays).toEqual([2_000, 3_000]);
  });

  it('gives up at once when Retry-After asks for more than maxDelay', async () => {
    const fn = vi.fn(async () => {
      throw Object.assign(fail(429), { retryAfter: 120 });
    });
    const t0 = Date.now();
    const err = await retry(fn, { attempts: 5, maxDelay: 1_000 }).catch((e: unknown) => e);
    expect(isRetryExhaustedError(err)).toBe(true);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(Date.now() - t0).toBeLessThan(1_000);
  });

  it('respects an overall deadline: no attempt starts that cannot finish, a running one is cut', async () => {
    const t0 = Date.now();
    const fn = vi.fn(
      ({ signal }: { signal: AbortSignal }) =>
        new Promise((_, reject) => {
          signal.addEventListener('abort', () => reject(signal.reason));
        }),
    );
    const err = await retry(fn, { attempts: 100, minDelay: 1, deadline: 150 }).catch(
      (e: unknown) => e,
    );
    expect(Date.now() - t0).toBeLessThan(1_500);
    expect(err).toMatchObject({ code: 'ERR_RESILIENCE_RETRY_DEADLINE' });
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('stops at once on abort: before, during an attempt, during a delay', async () => {
    const before = new AbortController();
    before.abort();
    const never = vi.fn(async () => 1);
    await expect(retry(never, { signal: before.signal })).rejects.toMatchObject({
      code: 'ERR_ABORTED',
    });
    expect(never).not.toHaveBeenCalled();

    const during = new AbortController();
    const p = retry(
      ({ signal }) =>
        new Promise((_, rej) => signal.addEventListener('abort', () => rej(signal.reason))),
      {
        signal: during.signal,
      },
    );
    during.abort(new Error('bye'));
    await expect(p).rejects.toMatchObject({ code: 'ERR_ABORTED' });

    const waiting = new AbortController();
    const fn = vi.fn(async () => {
      throw fail();
    });
    const q = retry(fn, { signal: waiting.signal, minDelay: 60_000, random: () => 0.9 });
    await vi.waitFor(() => expect(fn).toHaveBeenCalledTimes(1));
    const t0 = Date.now();
    waiting.abort();
    await expect(q).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('validates its options', async () => {
    await expect(retry(async () => 1, { attempts: 0 })).rejects.toMatchObject({
      code: 'ERR_RESILIENCE_INVALID_OPTION',
    });
    await expect(retry(async () => 1, { minDelay: -5 })).rejects.toThrow(/minDelay/);
  });
});

describe('Retry-After parsing', () => {
  it('reads the shapes common clients throw', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('7', now)).toBe(7_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(retryAfterMs({ retryAfterMs: 250 })).toBe(250);
    expect(retryAfterMs({ response: { headers: new Headers({ 'Retry-After': '3' }) } })).toBe(
      3_000,
    );
    expect(retryAfterMs({ $response: { headers: { 'retry-after': '1' } } })).toBe(1_000);
    expect(retryAfterMs(new Error('plain'))).toBeUndefined();
    expect(retryAfterMs('not an object')).toBeUndefined();
  });
});

describe('wrap()', () => {
  it('composes retry outside a breaker, and stops retrying once the breaker opens', async () => {
    const fn = vi.fn(async () => {
      throw fail();
    });
    const breaker = createBreaker(async (_ctx, run: () => Promise<never>) => run(), {
      failureThreshold: 3,
      registry: createRegistry(),
    });
    const policy = wrap(retryPolicy({ attempts: 10, minDelay: 1 }), breaker);
    const err = await policy.execute(fn).catch((e: unknown) => e);
    expect(breaker.state).toBe('open');
    expect(fn).toHaveBeenCalledTimes(3);
    expect(err).toMatchObject({ code: 'ERR_RESILIENCE_BREAKER_OPEN' });
  });

  it('hands the signal through every layer', async () => {
    const policy = wrap(retryPolicy({ attempts: 2 }), retryPolicy({ attempts: 2 }));
    const ac = new AbortController();
    const p = policy.execute(
      ({ signal }) =>
        new Promise((_, rej) =>
          signal.addEventListener('abort', () => rej(new Error('inner aborted'))),
        ),
      ac.signal,
    );
    ac.abort();
    await expect(p).rejects.toMatchObject({ code: 'ERR_ABORTED' });
  });
});

describe('retry on the @org/core contract', () => {
  it('a per-attempt timeout rejects with core’s TimeoutError, retried, with no breaker', async () => {
    let n = 0;
    const seen: unknown[] = [];
    const v = await retry(
      ({ signal }) =>
        ++n === 1
          ? new Promise<never>((_, rej) =>
              signal.addEventListener('abort', () => rej(signal.reason)),
            )
          : 'ok',
      { timeout: '20ms', minDelay: 1, onRetry: ({ error }) => seen.push(error) },
    );
    expect(v).toBe('ok');
    expect(isTimeoutError(seen[0])).toBe(true);
    expect(seen[0]).toMatchObject({ code: 'ERR_TIMEOUT', timeoutMs: 20 });
  });

  it('takes Duration strings and a Clock', async () => {
    vi.useFakeTimers({ now: 0 });
    const delays: number[] = [];
    const p = retry(
      async () => {
        throw fail();
      },
      {
        attempts: 3,
        minDelay: '1s',
        maxDelay: '1m',
        random: () => 0.5,
        clock: { now: () => Date.now() },
        onRetry: ({ delayMs }) => delays.push(delayMs),
      },
    ).catch((e: unknown) => e);
    await vi.runAllTimersAsync();
    expect(await p).toMatchObject({ code: 'ERR_RESILIENCE_RETRY_EXHAUSTED' });
    expect(delays).toEqual([500, 1_000]);
    await expect(retry(async () => 1, { deadline: 'soon' as never })).rejects.toMatchObject({
      code: 'ERR_RESILIENCE_INVALID_OPTION',
      message: expect.stringContaining('deadline'),
    });
  });

  it('an abort by AbortSignal.timeout() stops at once with core’s error, not a retry', async () => {
    const fn = vi.fn(
      ({ signal }: { signal: AbortSignal }) =>
        new Promise((_, rej) => signal.addEventListener('abort', () => rej(new Error('cut')))),
    );
    const err = await retry(fn, { signal: AbortSignal.timeout(20), attempts: 5 }).catch(
      (e: unknown) => e,
    );
    expect(isOrgError(err, 'ERR_TIMEOUT', 'ERR_ABORTED')).toBe(true);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('refuses a fn that is not a function with its own code', async () => {
    await expect(retry(42 as never)).rejects.toMatchObject({
      code: 'ERR_RESILIENCE_INVALID_OPTION',
    });
  });
});
