import { retry } from './retry.js';
import type { AttemptContext, RetryOptions } from './retry-options.js';

/** Anything that runs a function under a policy: a breaker, a retry policy, a wrap of them. */
export interface Policy {
  execute<T>(fn: (ctx: AttemptContext) => Promise<T> | T, signal?: AbortSignal): Promise<T>;
}

/** `retry` as a policy, for `wrap()`. */
export function retryPolicy(options: Omit<RetryOptions, 'signal'> = {}): Policy {
  return {
    execute: (fn, signal) => retry(fn, signal ? { ...options, signal } : options),
  };
}

/**
 * Composes policies outermost first: `wrap(retryPolicy(…), breaker)` retries calls that each go
 * through the breaker. Each policy hands its signal to the next, so one abort stops them all.
 */
export function wrap(...policies: Policy[]): Policy {
  return {
    execute<T>(fn: (ctx: AttemptContext) => Promise<T> | T, signal?: AbortSignal): Promise<T> {
      const run = (i: number, ctx: AttemptContext): Promise<T> | T => {
        const policy = policies[i];
        if (!policy) return fn(ctx);
        return policy.execute(
          (inner) => run(i + 1, { signal: inner.signal, attempt: inner.attempt }),
          ctx.signal,
        );
      };
      return Promise.resolve(
        run(0, { signal: signal ?? new AbortController().signal, attempt: 1 }),
      );
    },
  };
}
