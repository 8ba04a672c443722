/**
 * The breaker's and retry's OpenTelemetry instruments (recorded only when the app registers an
 * SDK; see `createTelemetry` in @org/core). Attributes are the breaker's name (the app names its
 * breakers: a bounded set), the outcome and an error `code`: never an argument of the call.
 *
 * This module imports nothing but @org/core, so `@org/resilience/retry` still loads no opossum.
 */
import { createTelemetry, DURATION_BOUNDARIES, errorType, isAbortedError } from '@org/core';
import { isRetryExhaustedError } from './errors.js';

export const telemetry = createTelemetry(
  { name: '@org/resilience' },
  {
    calls: {
      kind: 'counter',
      name: 'org.breaker.calls',
      unit: '{call}',
      description:
        'Attempts through a breaker by outcome (success, failure, timeout, rejected), and fallbacks that answered (fallback).',
    },
    duration: {
      kind: 'histogram',
      name: 'org.breaker.call.duration',
      unit: 's',
      description:
        'Duration of attempts that ran through a breaker (success, failure, timeout), at the millisecond resolution of its own latencies.',
      boundaries: DURATION_BOUNDARIES,
    },
    state: {
      kind: 'observableGauge',
      name: 'org.breaker.state',
      unit: '{state}',
      description:
        "A breaker's state: 0 closed, 1 half-open, 2 open; observed at each collection for every live breaker.",
    },
    attempts: {
      kind: 'histogram',
      name: 'org.retry.attempts',
      unit: '{attempt}',
      description:
        'Attempts a retried call made before it settled, by outcome (success, exhausted, not_retried, aborted).',
      boundaries: [1, 2, 3, 4, 5, 6, 8, 10, 15, 20],
    },
  },
);

/** A breaker's state as the gauge's value. */
export const STATE_VALUE = { closed: 0, halfOpen: 1, open: 2 } as const;

type Outcome = 'success' | 'failure' | 'timeout' | 'rejected' | 'fallback';

/**
 * One breaker's record sites. The attribute sets without an error are made once per breaker, so
 * that a success with an SDK allocates nothing either; every site tests `metrics()` first, so
 * with no SDK a call costs that one check.
 */
export function breakerTelemetry(name: string) {
  const attrs = (outcome: Outcome) => ({
    'org.breaker.name': name,
    'org.breaker.outcome': outcome,
  });
  const success = attrs('success');
  const rejected = attrs('rejected');
  const fallback = attrs('fallback');
  return {
    success(latencyMs: number): void {
      const m = telemetry.metrics();
      if (m === undefined) return;
      m.calls.add(1, success);
      m.duration.record(latencyMs / 1000, success);
    },
    /** A failure or a timeout, with the error's `code` (or class name) as `error.type`. */
    failure(outcome: 'failure' | 'timeout', error: unknown, latencyMs: number): void {
      const m = telemetry.metrics();
      if (m === undefined) return;
      const a = { ...attrs(outcome), 'error.type': errorType(error) };
      m.calls.add(1, a);
      m.duration.record(latencyMs / 1000, a);
    },
    rejected(error: unknown): void {
      const m = telemetry.metrics();
      if (m === undefined) return;
      m.calls.add(1, { ...rejected, 'error.type': errorType(error) });
    },
    fallback(): void {
      telemetry.metrics()?.calls.add(1, fallback);
    },
  };
}

/**
 * Reports a breaker's state at each collection, read from its clock-driven state machine (so an
 * open period that ended shows as half-open with no call to move it). `circuit` is held weakly:
 * a breaker the app drops leaves with it. Returns the function `close()` calls.
 */
export function observeState(
  circuit: { readonly state: keyof typeof STATE_VALUE },
  name: string,
): () => void {
  const named = { 'org.breaker.name': name };
  return telemetry.addCallback('state', circuit, (c, result) =>
    result.observe(STATE_VALUE[c.state], named),
  );
}

/** Records how many attempts a retried call made and how it ended (`error` undefined: success). */
export function recordRetry(attempts: number, error: unknown, breaker: string | undefined): void {
  const m = telemetry.metrics();
  if (m === undefined) return;
  const outcome =
    error === undefined
      ? 'success'
      : isRetryExhaustedError(error)
        ? 'exhausted'
        : isAbortedError(error)
          ? 'aborted'
          : 'not_retried';
  const a: Record<string, string> = { 'org.retry.outcome': outcome };
  if (error !== undefined) a['error.type'] = errorType(error);
  if (breaker !== undefined) a['org.breaker.name'] = breaker;
  m.attempts.record(attempts, a);
}
