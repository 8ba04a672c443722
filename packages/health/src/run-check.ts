import { TimeoutError } from '@org/core';
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
  /** Whether the check can see its signal (see `takesSignal`); no signal is made otherwise. */
  readonly takesSignal: boolean;
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
 * Whether `fn` can see the signal it is handed. An arrow function whose parameter list is
 * empty cannot (an arrow has no `arguments` of its own): for such a check no signal is made,
 * which is most of what an uncached run of a quick check costs (an AbortSignal is an
 * EventTarget). Anything else (a parameter, `...rest`, a `function` that may read `arguments`,
 * a bound, native or transpiled function) gets its signal as always. Read once per check.
 */
export function takesSignal(fn: CheckFn): boolean {
  let source: string;
  try {
    source = Function.prototype.toString.call(fn);
  } catch {
    return true;
  }
  return !/^(?:async\s*)?\(\s*\)\s*=>/.test(source);
}

const DEADLINE_HINT =
  'checks still running were cut; raise `deadline` (below the probe timeout) if they are legitimately slower';

/** The error a cut check's signal aborts with: its own timeout, or the report's deadline. */
export function cutError(check: ResolvedCheck, atDeadline: boolean, deadlineMs: number) {
  return atDeadline
    ? new TimeoutError(deadlineMs, 'The health report', { hint: DEADLINE_HINT })
    : new TimeoutError(check.timeoutMs, `The health check "${check.name}"`);
}

/**
 * One check's report, its keys in the order the JSON has always shown them. Built field by
 * field: this runs for every check of every uncached report, where spreads showed in profiles.
 */
function reportOf(
  check: ResolvedCheck,
  status: CheckReport['status'],
  latencyMs: number,
  measurement: string,
  observedValue: CheckReport['observedValue'],
  observedUnit: string | undefined,
): CheckReport {
  const report: CheckReport = {
    status,
    critical: check.critical,
    latencyMs,
    measurement,
  } as CheckReport;
  if (observedUnit !== undefined) report.observedUnit = observedUnit;
  if (check.componentType !== undefined) report.componentType = check.componentType;
  if (check.componentId !== undefined) report.componentId = check.componentId;
  report.observedValue = observedValue;
  return report;
}

/** The report of a check cut at its timeout or at the report deadline. */
export function timeoutReport(
  check: ResolvedCheck,
  elapsedMs: number,
  atDeadline: boolean,
  deadlineMs: number,
): CheckReport {
  const latencyMs = round(elapsedMs);
  const report = reportOf(check, 'timeout', latencyMs, 'responseTime', latencyMs, 'ms');
  report.reason = atDeadline
    ? `cut at the report deadline (${deadlineMs} ms)`
    : `timed out after ${check.timeoutMs} ms`;
  return report;
}

/** The report of a check that threw or rejected (a TimeoutError it threw itself included). */
export function failReport(
  check: ResolvedCheck,
  error: unknown,
  elapsedMs: number,
  secrets: readonly string[],
): CheckReport {
  const latencyMs = round(elapsedMs);
  const report = reportOf(check, 'fail', latencyMs, 'responseTime', latencyMs, 'ms');
  report.reason = safeReason(error, secrets);
  return report;
}

const NO_OUTCOME: CheckOutcome = {};

/** The report of a check that returned `value` (a `CheckOutcome`, or anything meaning `ok`). */
export function settledReport(
  check: ResolvedCheck,
  value: unknown,
  elapsedMs: number,
  secrets: readonly string[],
): CheckReport {
  const latencyMs = round(elapsedMs);
  const outcome = value === undefined ? NO_OUTCOME : asOutcome(value);
  const status = outcome.status ?? 'ok';
  const observed = outcome.observedValue;
  const report = reportOf(
    check,
    status,
    latencyMs,
    outcome.measurement ?? 'responseTime',
    observed ?? latencyMs,
    observed === undefined ? 'ms' : outcome.observedUnit,
  );
  if (outcome.reason !== undefined) report.reason = safeReason(outcome.reason, secrets);
  else if (status !== 'ok') report.reason = status === 'warn' ? 'warning' : 'failed';
  if (outcome.details !== undefined) report.details = outcome.details;
  return report;
}
