import type { Duration, TimeoutError } from '@org/core';
import {
  type Breaker,
  type BreakerOptions,
  type CallContext,
  createBreaker,
  type RetryOptions,
  retry,
} from '@org/resilience';
import { describe, expectTypeOf, it } from 'vitest';

describe('createBreaker types', () => {
  it('infers the arguments of fire from fn, after the context', () => {
    const b = createBreaker(async (ctx, id: string, n: number) => ({
      id,
      n,
      aborted: ctx.signal.aborted,
    }));
    expectTypeOf(b).toEqualTypeOf<
      Breaker<[id: string, n: number], { id: string; n: number; aborted: boolean }>
    >();
    expectTypeOf(b.fire).parameters.toEqualTypeOf<[id: string, n: number]>();
    expectTypeOf(b.fire('a', 1)).resolves.toEqualTypeOf<{
      id: string;
      n: number;
      aborted: boolean;
    }>();
    // @ts-expect-error wrong argument type
    void b.fire(1, 1);
  });

  it('types the fallback from the call', () => {
    createBreaker(async (_ctx: CallContext, id: number) => `user-${id}`, {
      fallback: (_err, id) => {
        expectTypeOf(id).toEqualTypeOf<number>();
        return 'anonymous';
      },
    });
    createBreaker(async () => 1, {
      // @ts-expect-error the fallback must answer with the call's type
      fallback: () => 'not a number',
    });
  });

  it('retry resolves to what fn returns', () => {
    expectTypeOf(retry(async ({ attempt }) => attempt * 2)).resolves.toEqualTypeOf<number>();
  });

  it('types each event as one payload object', () => {
    const b = createBreaker(async () => 1);
    b.on('open', (e) => {
      expectTypeOf(e).toEqualTypeOf<{
        name: string;
        openUntil: number;
        trips: number;
        remote: boolean;
        error?: unknown;
      }>();
    });
    b.once('timeout', ({ error }) => expectTypeOf(error).toEqualTypeOf<TimeoutError>());
    b.on('success', ({ latencyMs }) => expectTypeOf(latencyMs).toEqualTypeOf<number>());
    expectTypeOf(b.on('close', () => {})).toEqualTypeOf<() => void>();
    expectTypeOf(b.close()).toEqualTypeOf<Promise<void>>();
    // @ts-expect-error no such event
    b.on('opened', () => {});
  });

  it('takes Durations, and undefined for any option', () => {
    expectTypeOf<NonNullable<BreakerOptions['resetTimeout']>>().toEqualTypeOf<Duration>();
    expectTypeOf<NonNullable<RetryOptions['deadline']>>().toEqualTypeOf<Duration>();
    expectTypeOf<undefined>().toExtend<BreakerOptions['timeout']>();
    expectTypeOf<undefined>().toExtend<RetryOptions['clock']>();
    createBreaker(async () => 1, { timeout: '2s', resetTimeout: 500, retry: { minDelay: '1s' } });
    // @ts-expect-error a duration string needs a unit
    createBreaker(async () => 1, { timeout: '2' });
  });
});
