import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  AbortedError,
  abortable,
  abortReason,
  isAbortedError,
  isTimeoutError,
  linkSignals,
  OrgError,
  sleep,
  TimeoutError,
  throwIfAborted,
  withTimeout,
} from '../src/index.js';

afterEach(() => {
  vi.useRealTimers();
});

const never = () => new Promise<never>(() => {});

describe('abortReason', () => {
  it('wraps a plain reason, keeps an OrgError, maps AbortSignal.timeout()', async () => {
    const c = new AbortController();
    c.abort('why');
    const err = abortReason(c.signal, 'Redis GET');
    expect(err).toBeInstanceOf(AbortedError);
    expect(err.code).toBe('ERR_ABORTED');
    expect(err.cause).toBe('why');
    expect(err.message).toBe('Redis GET was aborted by its caller.');
    expect(isAbortedError(err)).toBe(true);

    const mine = new OrgError('ERR_CACHE_X', 'mine');
    const c2 = new AbortController();
    c2.abort(mine);
    expect(abortReason(c2.signal)).toBe(mine);

    const t = AbortSignal.timeout(1);
    await new Promise((r) => t.addEventListener('abort', r));
    const te = abortReason(t);
    expect(isTimeoutError(te)).toBe(true);
    expect((te as TimeoutError).timeoutMs).toBeUndefined();
    expect(te.cause).toBe(t.reason);
  });

  it('throwIfAborted throws only once aborted', () => {
    const c = new AbortController();
    expect(() => throwIfAborted(c.signal)).not.toThrow();
    expect(() => throwIfAborted(undefined)).not.toThrow();
    c.abort();
    expect(() => throwIfAborted(c.signal)).toThrow(AbortedError);
  });
});

describe('withTimeout', () => {
  it('rejects with TimeoutError at the deadline even when fn ignores its signal', async () => {
    vi.useFakeTimers();
    let seen: AbortSignal | undefined;
    const p = withTimeout(
      (signal) => {
        seen = signal;
        return never();
      },
      { timeoutMs: 100, what: 'Redis GET' },
    );
    const check = expect(p).rejects.toSatisfy((err: unknown) => {
      expect(err).toBeInstanceOf(TimeoutError);
      expect((err as TimeoutError).timeoutMs).toBe(100);
      expect((err as Error).message).toContain('Redis GET timed out after 100 ms');
      return true;
    });
    await vi.advanceTimersByTimeAsync(100);
    await check;
    expect(seen?.aborted).toBe(true);
    expect(isTimeoutError(seen?.reason)).toBe(true);
  });

  it('rejects with AbortedError when the caller aborts, and unlinks from the parent', async () => {
    const parent = new AbortController();
    const add = vi.spyOn(parent.signal, 'addEventListener');
    const remove = vi.spyOn(parent.signal, 'removeEventListener');
    const p = withTimeout(() => never(), { timeoutMs: 10_000, signal: parent.signal });
    parent.abort('stop');
    await expect(p).rejects.toSatisfy(
      (err: unknown) => isAbortedError(err) && (err as Error).cause === 'stop',
    );
    const done = await withTimeout(async () => 1, {
      timeoutMs: 10_000,
      signal: parent.signal,
    }).catch((e: unknown) => e);
    expect(isAbortedError(done)).toBe(true);
    expect(remove.mock.calls.length).toBe(add.mock.calls.length);
  });

  it('settles with fn and clears its timer and listeners', async () => {
    const parent = new AbortController();
    const add = vi.spyOn(parent.signal, 'addEventListener');
    const remove = vi.spyOn(parent.signal, 'removeEventListener');
    const clear = vi.spyOn(globalThis, 'clearTimeout');
    await expect(
      withTimeout(async () => 'ok', { timeoutMs: 1_000, signal: parent.signal }),
    ).resolves.toBe('ok');
    await expect(withTimeout(() => 'sync', { timeoutMs: false })).resolves.toBe('sync');
    await expect(
      withTimeout(
        () => {
          throw new Error('sync throw');
        },
        { timeoutMs: 1_000 },
      ),
    ).rejects.toThrow('sync throw');
    await expect(
      withTimeout(() => Promise.reject(new Error('async')), { timeoutMs: 1_000 }),
    ).rejects.toThrow('async');
    expect(clear).toHaveBeenCalled();
    expect(remove.mock.calls.length).toBe(add.mock.calls.length);
    clear.mockRestore();
  });

  it('uses onTimeout for a package that must reject with its own error', async () => {
    vi.useFakeTimers();
    const mine = new OrgError('ERR_CACHE_LOADER', 'loader slow');
    const p = withTimeout(() => never(), { timeoutMs: 5, onTimeout: () => mine });
    const check = expect(p).rejects.toBe(mine);
    await vi.advanceTimersByTimeAsync(5);
    await check;
  });

  it('does not hang when no timeout and the signal never fires: it waits for fn', async () => {
    await expect(withTimeout(async () => 2, { timeoutMs: Number.POSITIVE_INFINITY })).resolves.toBe(
      2,
    );
  });
});

describe('abortable, sleep, linkSignals', () => {
  it('abortable rejects at the abort even if the promise never settles', async () => {
    const c = new AbortController();
    const p = abortable(never(), c.signal, 'S3 GET');
    c.abort();
    await expect(p).rejects.toThrow('S3 GET was aborted by its caller.');
    await expect(abortable(Promise.resolve(3), undefined)).resolves.toBe(3);
    const pre = new AbortController();
    pre.abort();
    await expect(abortable(Promise.reject(new Error('late')), pre.signal)).rejects.toBeInstanceOf(
      AbortedError,
    );
  });

  it('sleep resolves after ms and rejects on abort', async () => {
    vi.useFakeTimers();
    const c = new AbortController();
    const done = vi.fn();
    void sleep(50, c.signal).then(done);
    await vi.advanceTimersByTimeAsync(49);
    expect(done).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(done).toHaveBeenCalled();
    const p = sleep(1_000, c.signal);
    c.abort();
    await expect(p).rejects.toBeInstanceOf(AbortedError);
  });

  it('linkSignals follows any parent and disposes its listeners', () => {
    const a = new AbortController();
    const b = new AbortController();
    const link = linkSignals(a.signal, undefined, b.signal);
    expect(link.signal.aborted).toBe(false);
    b.abort('b');
    expect(link.signal.reason).toBe('b');
    link.dispose();
    const pre = new AbortController();
    pre.abort('x');
    expect(linkSignals(a.signal, pre.signal).signal.reason).toBe('x');
    expect(linkSignals().signal.aborted).toBe(false);
  });
});
