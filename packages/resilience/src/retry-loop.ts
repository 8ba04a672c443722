import { abortReason, sleep, throwIfAborted, withTimeout } from '@org/core';
import { fullJitterDelay } from './backoff.js';
import { RetryExhaustedError } from './errors.js';
import { retryAfterMs } from './retry-after.js';
import type { AttemptContext, ResolvedRetry } from './retry-options.js';
import { recordRetry, telemetry } from './telemetry.js';

/** The signal attempts get when the caller gave none: it never aborts. */
export const noSignal: AbortSignal = new AbortController().signal;

/**
 * The retry loop over resolved options (see `retry()`); `signal` overrides the options' own.
 * A breaker resolves its retry options once and runs each call through this.
 */
export async function runRetry<T>(
  fn: (ctx: AttemptContext) => Promise<T> | T,
  o: ResolvedRetry,
  signal: AbortSignal | undefined = o.signal,
): Promise<T> {
  const { clock, attempts, minDelayMs, maxDelayMs, retryOn } = o;
  const deadlineAt = o.deadlineMs === undefined ? undefined : clock.now() + o.deadlineMs;
  let attempt = 1;
  try {
    for (; ; attempt++) {
      throwIfAborted(signal);
      const remaining = deadlineAt === undefined ? undefined : deadlineAt - clock.now();
      const timeoutMs = minDefined(o.timeoutMs, remaining);
      let error: unknown;
      try {
        if (timeoutMs === undefined) {
          const value = await fn({ signal: signal ?? noSignal, attempt });
          if (telemetry.metrics() !== undefined) recordRetry(attempt, undefined, o.breakerName);
          return value;
        }
        const value = await withTimeout((s) => fn({ signal: s, attempt }), {
          timeoutMs: Math.max(1, timeoutMs),
          signal,
          what: `Attempt ${attempt}`,
          hint: 'raise the retry `timeout` or `deadline` if the operation is legitimately slower',
        });
        if (telemetry.metrics() !== undefined) recordRetry(attempt, undefined, o.breakerName);
        return value;
      } catch (err) {
        error = err;
      }
      // Once the caller has aborted, nothing is retried, whatever the attempt rejected with.
      if (signal?.aborted) throw abortReason(signal);
      if (!retryOn(error, attempt)) throw error;
      const pastDeadline = deadlineAt !== undefined && clock.now() >= deadlineAt;
      if (attempt >= attempts || pastDeadline)
        throw new RetryExhaustedError(attempt, error, pastDeadline);

      let delayMs = fullJitterDelay(attempt, minDelayMs, maxDelayMs, o.random);
      const asked = o.respectRetryAfter ? retryAfterMs(error, clock.now()) : undefined;
      if (asked !== undefined) {
        // Retrying before the server said it would be ready is wasted; when it asks for longer
        // than we may wait, give up now rather than hammer it or hang the caller.
        if (asked > maxDelayMs) throw new RetryExhaustedError(attempt, error);
        delayMs = Math.max(delayMs, asked);
      }
      if (deadlineAt !== undefined && clock.now() + delayMs >= deadlineAt) {
        throw new RetryExhaustedError(attempt, error, true);
      }
      o.onRetry?.({ attempt, delayMs, error });
      if (delayMs > 0) await sleep(delayMs, signal);
    }
  } catch (err) {
    recordRetry(attempt, err, o.breakerName);
    throw err;
  }
}

function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}
