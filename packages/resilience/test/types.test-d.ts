import { type Breaker, type CallContext, createBreaker, retry } from '@org/resilience';
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
});
