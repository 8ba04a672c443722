import { TimeoutError, withTimeout } from '@org/core';
import { safeReason } from './redact.js';
import type { CheckFn, CheckOutcome, CheckReport } from './types.js';

/** A check with its options parsed and its defaults applied. */
export interface ResolvedCheck {
  readonly name: string;
  readonly check: CheckFn;
  readonly timeoutMs: number;
  readonly critical: boolean;
  readonly componentType?: string | undefined;
  readonly componentId?: string | undefined;
}

const round = (ms: number) => Math.round(ms * 10) / 10;
const VERDICTS = new Set(['ok', 'warn', 'fail']);
const OUTCOME_KEYS = ['reason', 'observedValue', 'measurement', 'details'];

/** Whether a check's return value is a CheckOutcome (rather than, say, a query result). */
function asOutcome(value: unknown): CheckOutcome {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  if ('status' in value) return VERDICTS.has(value.status as string) ? (value as CheckOutcome) : {};
  return OUTCOME_KEYS.some((k) => k in value) ? (value as CheckOutcome) : {};
}

/** The deadline of one report: when it passes (by `performance.now()`), and its length. */
export interface Deadline {
  readonly at: number;
  readonly ms: number;
}

const DEADLINE_HINT =
  'checks still running were cut; raise `deadline` (below the probe timeout) if they are legitimately slower';

/**
 * Runs one check, cut at its own timeout or when `deadline` passes, whichever comes first (the
 * check's signal then aborts with core's `TimeoutError`). Each check gets one timer, bounded by
 * what is left of the report's deadline, rather than a shared deadline signal: EventTarget
 * listeners on an AbortSignal cost more than the rest of an uncached run. Never rejects: a
 * throw becomes `fail`, a cut becomes `timeout`, both with a safe reason.
 */
export async function runCheck(
  check: ResolvedCheck,
  deadline: Deadline,
  secrets: readonly string[],
): Promise<CheckReport> {
  const started = performance.now();
  const left = Math.max(0, deadline.at - started);
  const atDeadline = left < check.timeoutMs;
  const base = {
    status: 'ok' as CheckReport['status'],
    critical: check.critical,
    latencyMs: 0,
    measurement: 'responseTime',
    observedUnit: 'ms',
    ...(check.componentType === undefined ? {} : { componentType: check.componentType }),
    ...(check.componentId === undefined ? {} : { componentId: check.componentId }),
  };
  let cut: TimeoutError | undefined;
  let outcome: CheckOutcome;
  try {
    outcome = asOutcome(
      await withTimeout((signal) => check.check(signal), {
        timeoutMs: atDeadline ? left : check.timeoutMs,
        onTimeout: () => {
          cut = atDeadline
            ? new TimeoutError(deadline.ms, 'The health report', { hint: DEADLINE_HINT })
            : new TimeoutError(check.timeoutMs, `The health check "${check.name}"`);
          return cut;
        },
      }),
    );
  } catch (error) {
    const latencyMs = round(performance.now() - started);
    // Our own cut, not a TimeoutError the check threw (that one is a failure like any other).
    if (cut !== undefined && error === cut) {
      return {
        ...base,
        status: 'timeout',
        latencyMs,
        observedValue: latencyMs,
        reason: atDeadline
          ? `cut at the report deadline (${deadline.ms} ms)`
          : `timed out after ${check.timeoutMs} ms`,
      };
    }
    return {
      ...base,
      status: 'fail',
      latencyMs,
      observedValue: latencyMs,
      reason: safeReason(error, secrets),
    };
  }
  const latencyMs = round(performance.now() - started);
  const status = outcome.status ?? 'ok';
  const report: CheckReport = {
    ...base,
    status,
    latencyMs,
    measurement: outcome.measurement ?? base.measurement,
    observedValue: outcome.observedValue ?? latencyMs,
  };
  if (outcome.observedValue !== undefined) {
    if (outcome.observedUnit === undefined) delete report.observedUnit;
    else report.observedUnit = outcome.observedUnit;
  }
  if (outcome.reason !== undefined) report.reason = safeReason(outcome.reason, secrets);
  else if (status !== 'ok') report.reason = status === 'warn' ? 'warning' : 'failed';
  if (outcome.details !== undefined) report.details = outcome.details;
  return report;
}
