import type { TimeoutError } from '@org/core';
import type { Attempt } from './attempt.js';
import { type Deadline, DeadlineQueue } from './deadline-queue.js';
import type { RollingWindow } from './rolling-window.js';

/** What the breaker does with each outcome of an attempt (latencies in ms). */
export interface Outcomes {
  /** The attempt succeeded. */
  success(latencyMs: number): void;
  /** The attempt threw or rejected with `error` (counted or not, as `isFailure` says). */
  failure(attempt: Attempt, error: unknown, latencyMs: number): void;
  /** The attempt ran past the timeout: abort it, record it, and return the error to reject with. */
  timeout(attempt: Attempt, latencyMs: number): TimeoutError;
}

const isThenable = (v: unknown): v is PromiseLike<unknown> =>
  typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';

/**
 * Runs one attempt, counted in the window and cut at `timeoutMs`. This is the per-call work
 * opossum's `fire` does (a promise, a deadline, the latency, the counts), without its event
 * round-trips, argument copies and second promise: the outcome goes straight to `outcomes`.
 * The deadlines of all attempts in flight share one timer (`DeadlineQueue`) instead of a timer
 * made and cleared per call, which was half of what a call cost.
 * Latency is read from `Date.now()`, as opossum does, so that its percentiles keep their meaning.
 */
export function attemptRunner(
  window: RollingWindow,
  timeoutMs: number | false,
  outcomes: Outcomes,
): (attempt: Attempt) => Promise<unknown> {
  const queue = timeoutMs === false ? undefined : new DeadlineQueue();
  return (a) => {
    window.count('fires');
    const started = Date.now();
    // The deadline runs from the start of the call, as a timer set before it would.
    const deadlineAt = timeoutMs === false ? 0 : performance.now() + timeoutMs;
    let result: unknown;
    try {
      result = a.exec();
    } catch (err) {
      outcomes.failure(a, err, Date.now() - started);
      return Promise.reject(err);
    }
    if (!isThenable(result)) {
      outcomes.success(Date.now() - started);
      return Promise.resolve(result);
    }
    if (timeoutMs === false) {
      return Promise.resolve(result).then(
        (value) => {
          outcomes.success(Date.now() - started);
          return value;
        },
        (err: unknown) => {
          outcomes.failure(a, err, Date.now() - started);
          throw err;
        },
      );
    }
    const deadlines = queue as DeadlineQueue;
    return new Promise((resolve, reject) => {
      const entry: Deadline = {
        at: deadlineAt,
        prev: undefined,
        next: undefined,
        queued: false,
        expire: () => reject(outcomes.timeout(a, Date.now() - started)),
      };
      deadlines.add(entry);
      Promise.resolve(result).then(
        (value) => {
          if (!entry.queued) return;
          deadlines.remove(entry);
          outcomes.success(Date.now() - started);
          resolve(value);
        },
        (err: unknown) => {
          if (!entry.queued) return;
          deadlines.remove(entry);
          outcomes.failure(a, err, Date.now() - started);
          reject(err);
        },
      );
    });
  };
}
