import { isTimeoutError } from '@org/core';
import { createHealth } from '@org/health';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { takesSignal } from '../src/run-check.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the signal a check is handed', () => {
  it('is made for every check that can see it, and only for those', () => {
    // Compiled from the text as written: the test transform would reformat a literal function.
    const source = (code: string) => new Function(`return (${code})`)() as () => unknown;
    function plain() {
      return undefined;
    }
    const seen: [string, (signal: AbortSignal) => unknown, boolean][] = [
      ['() =>', () => undefined, false],
      ['async () =>', async () => undefined, false],
      ['async()=>', source('async()=>1'), false],
      ['(signal) =>', (signal) => signal, true],
      ['signal =>', source('signal => signal'), true],
      ['(...args) =>', (...args: unknown[]) => args[0], true],
      ['function () (may read arguments)', plain, true],
      ['a bound function', plain.bind(null), true],
      ['a mock', vi.fn(), true],
      ['a method', { check() {} }.check, true],
      ['a comment in the parameters', source('( /* signal */ ) => 1'), true],
    ];
    expect(seen.map(([name, fn]) => [name, takesSignal(fn)])).toEqual(
      seen.map(([name, , want]) => [name, want]),
    );
  });

  it('reaches a check through rest parameters and `arguments`', async () => {
    const got: unknown[] = [];
    const health = createHealth({
      checks: {
        rest: (...args: unknown[]) => void got.push(args[0]),
        args: function () {
          // biome-ignore lint/complexity/noArguments: the case under test
          got.push(arguments[0]);
        },
      },
      cache: 0,
    });
    await health.full();
    expect(got).toHaveLength(2);
    for (const s of got) expect(s).toBeInstanceOf(AbortSignal);
  });
});

describe('one timer per report', () => {
  it('arms none when every check settles at once, and one for checks that run on', async () => {
    const timers = vi.spyOn(globalThis, 'setTimeout');
    const instant = createHealth({
      checks: { sync: () => ({ status: 'ok' }), resolved: async () => undefined },
      cache: 0,
    });
    const r = await instant.full();
    expect(r.status).toBe('healthy');
    expect(timers).not.toHaveBeenCalled();

    const release: (() => void)[] = [];
    const pending = () => new Promise<void>((resolve) => release.push(resolve));
    const slow = createHealth({
      checks: { a: pending, b: { check: pending, timeout: 500 }, c: pending },
      cache: 0,
    });
    const report = slow.full();
    for (let i = 0; i < 5; i++) await Promise.resolve();
    expect(timers).toHaveBeenCalledTimes(1);
    for (const r of release) r();
    expect((await report).status).toBe('healthy');
    expect(timers).toHaveBeenCalledTimes(1);
  });

  it('cuts each check at its own timeout, the earliest first, and ignores a late answer', async () => {
    const reasons: Record<string, unknown> = {};
    const stuck = (name: string) => (signal: AbortSignal) =>
      new Promise((_resolve, reject) => {
        signal.addEventListener('abort', () => {
          reasons[name] = signal.reason;
          // A late rejection after the cut: the report already says timeout.
          setTimeout(() => reject(new Error('late')), 5);
        });
      });
    const health = createHealth({
      checks: {
        short: { check: stuck('short'), timeout: 60 },
        long: { check: stuck('long'), timeout: 200 },
        fine: () => new Promise((r) => setTimeout(r, 100)),
      },
      deadline: 2_000,
      cache: 0,
    });
    const r = await health.full();
    expect(r.checks.short).toMatchObject({ status: 'timeout', reason: 'timed out after 60 ms' });
    expect(r.checks.long).toMatchObject({ status: 'timeout', reason: 'timed out after 200 ms' });
    expect(r.checks.fine?.status).toBe('ok');
    expect(r.checks.short?.latencyMs).toBeGreaterThanOrEqual(55);
    expect(r.checks.short?.latencyMs).toBeLessThan(190);
    expect(r.checks.long?.latencyMs).toBeGreaterThanOrEqual(195);
    expect(isTimeoutError(reasons.short) && reasons.short.timeoutMs).toBe(60);
    expect(isTimeoutError(reasons.long) && reasons.long.timeoutMs).toBe(200);
    await new Promise((r) => setTimeout(r, 20));
    expect(r.checks.short?.status).toBe('timeout');
  });

  it('a check that throws at once is a failure, in a report that still waits for the rest', async () => {
    const health = createHealth({
      checks: {
        thrower: () => {
          throw new Error('no connection');
        },
        later: () => new Promise((r) => setTimeout(r, 30)),
      },
      cache: 0,
    });
    const r = await health.full();
    expect(r.checks.thrower).toMatchObject({ status: 'fail', reason: 'no connection' });
    expect(r.checks.later?.status).toBe('ok');
    expect(r.checks.later?.latencyMs).toBeGreaterThanOrEqual(25);
  });

  it('a run of synchronous checks ends at once: with cache 0 the next call runs them again', async () => {
    let runs = 0;
    const health = createHealth({ checks: { a: () => void runs++ }, cache: 0 });
    const first = await health.full();
    const second = await health.full();
    expect(runs).toBe(2);
    expect(second).not.toBe(first);
    expect(second.status).toBe('healthy');
  });
});
