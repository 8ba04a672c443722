import { HealthError } from './errors.js';
import { safeReason } from './redact.js';
import type { CheckOutcome, CheckReport, HealthCheck } from './types.js';

/** A check with its defaults applied. */
export interface ResolvedCheck extends HealthCheck {
  timeout: number;
  critical: boolean;
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

/**
 * The report deadline as seen by each check: a plain callback list, since EventTarget
 * listeners on an AbortSignal cost more than the rest of a cached probe.
 */
export interface Deadline {
  /** Set once the deadline has passed. */
  reason?: HealthError;
  /** Calls `fn` when the deadline passes; returns a function that forgets it. */
  onCut(fn: (reason: HealthError) => void): () => void;
}

/** A deadline that passes after `ms`; `clear()` stops its timer. */
export function createDeadline(ms: number): Deadline & { clear(): void } {
  const fns = new Set<(reason: HealthError) => void>();
  const deadline: Deadline & { clear(): void } = {
    onCut(fn) {
      if (deadline.reason) fn(deadline.reason);
      else fns.add(fn);
      return () => void fns.delete(fn);
    },
    clear: () => clearTimeout(timer),
  };
  // Not unref()ed: this timer bounds the caller's await.
  const timer = setTimeout(() => {
    deadline.reason = new HealthError(
      'ERR_HEALTH_DEADLINE',
      `cut at the report deadline (${ms} ms)`,
    );
    for (const fn of fns) fn(deadline.reason);
    fns.clear();
  }, ms);
  return deadline;
}

/**
 * Runs one check, cut at its own timeout or when `deadline` passes, whichever comes first.
 * Never rejects: a throw becomes `fail`, a cut becomes `timeout`, both with a safe reason.
 */
export async function runCheck(
  check: ResolvedCheck,
  deadline: Deadline,
  secrets: readonly string[],
): Promise<CheckReport> {
  const started = performance.now();
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let forget: (() => void) | undefined;
  const cut = new Promise<{ timedOut: string }>((resolve) => {
    const stop = (reason: HealthError) => {
      controller.abort(reason);
      resolve({ timedOut: reason.message });
    };
    // Not unref()ed: this timer bounds the caller's await.
    timer = setTimeout(
      () =>
        stop(new HealthError('ERR_HEALTH_CHECK_TIMEOUT', `timed out after ${check.timeout} ms`)),
      check.timeout,
    );
    forget = deadline.onCut(stop);
  });
  const base = {
    status: 'ok' as CheckReport['status'],
    critical: check.critical,
    latencyMs: 0,
    measurement: 'responseTime',
    observedUnit: 'ms',
    ...(check.componentType === undefined ? {} : { componentType: check.componentType }),
    ...(check.componentId === undefined ? {} : { componentId: check.componentId }),
  };
  try {
    const settled = await Promise.race([
      Promise.resolve()
        .then(() => check.check(controller.signal))
        .then(
          (outcome) => ({ outcome: asOutcome(outcome) }),
          (error: unknown) => ({ error }),
        ),
      cut,
    ]);
    const latencyMs = round(performance.now() - started);
    if ('timedOut' in settled) {
      return {
        ...base,
        status: 'timeout',
        latencyMs,
        observedValue: latencyMs,
        reason: settled.timedOut,
      };
    }
    if ('error' in settled) {
      return {
        ...base,
        status: 'fail',
        latencyMs,
        observedValue: latencyMs,
        reason: safeReason(settled.error, secrets),
      };
    }
    const o = settled.outcome;
    const status = o.status ?? 'ok';
    const report: CheckReport = {
      ...base,
      status,
      latencyMs,
      measurement: o.measurement ?? base.measurement,
      observedValue: o.observedValue ?? latencyMs,
    };
    if (o.observedValue !== undefined) {
      if (o.observedUnit === undefined) delete report.observedUnit;
      else report.observedUnit = o.observedUnit;
    }
    if (o.reason !== undefined) report.reason = safeReason(o.reason, secrets);
    else if (status !== 'ok') report.reason = status === 'warn' ? 'warning' : 'failed';
    if (o.details !== undefined) report.details = o.details;
    return report;
  } finally {
    clearTimeout(timer);
    forget?.();
  }
}
