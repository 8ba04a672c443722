import {
  cutError,
  failReport,
  type ResolvedCheck,
  settledReport,
  timeoutReport,
} from './run-check.js';
import { telemetry, tracedCheck } from './telemetry.js';
import type { CheckReport } from './types.js';

/** A check still running within one report. */
interface Running {
  readonly index: number;
  readonly check: ResolvedCheck;
  readonly started: number;
  /** When it is cut (by `performance.now()`): its timeout, or the report deadline if sooner. */
  readonly cutAt: number;
  readonly atDeadline: boolean;
  readonly controller: AbortController | undefined;
  done: boolean;
}

const isThenable = (v: unknown): v is PromiseLike<unknown> =>
  typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';

/**
 * Runs `checks` concurrently and hands `done` the report of each, in order (at once when every
 * check settled synchronously; no promise of its own in between): a throw is `fail`, a check still
 * running at its timeout (or at `deadlineMs` after the start, whichever is sooner) is cut, its
 * signal aborted with core's `TimeoutError`, and reported as `timeout`. Never rejects.
 *
 * One timer per report, armed for the earliest cut among the checks still running, and none
 * when every check settles at once (a synchronous check, or a promise already resolved): the
 * timer is armed only after the reactions of settled promises have run. A check that cannot
 * see its signal (`takesSignal`) is handed none.
 */
export function runChecks(
  checks: readonly ResolvedCheck[],
  deadlineMs: number,
  secrets: readonly string[],
  done: (reports: CheckReport[]) => void,
  // Read once per report: with no SDK, the checks are called as they always were.
  traced: boolean = telemetry.tracing(),
): void {
  const deadlineAt = performance.now() + deadlineMs;
  const reports = new Array<CheckReport>(checks.length);
  let running: Running[] | undefined;
  for (let index = 0; index < checks.length; index++) {
    const check = checks[index] as ResolvedCheck;
    const started = performance.now();
    const controller = check.takesSignal ? new AbortController() : undefined;
    let value: unknown;
    try {
      value = traced
        ? tracedCheck(check.name, check.check, controller?.signal)
        : controller
          ? check.check(controller.signal)
          : (check.check as () => unknown)();
    } catch (error) {
      reports[index] = failReport(check, error, performance.now() - started, secrets);
      continue;
    }
    if (!isThenable(value)) {
      reports[index] = settledReport(check, value, performance.now() - started, secrets);
      continue;
    }
    const left = Math.max(0, deadlineAt - started);
    const atDeadline = left < check.timeoutMs;
    const entry: Running = {
      index,
      check,
      started,
      cutAt: started + (atDeadline ? left : check.timeoutMs),
      atDeadline,
      controller,
      done: false,
    };
    running ??= [];
    running.push(entry);
    // The reactions are attached now, so a promise already settled reports before the timer
    // would be armed below.
    Promise.resolve(value).then(
      (v) => settle(entry, settledReport(check, v, performance.now() - started, secrets)),
      (e: unknown) => settle(entry, failReport(check, e, performance.now() - started, secrets)),
    );
  }
  if (running === undefined) {
    done(reports);
    return;
  }
  const inFlight = running;
  let pending = inFlight.length;
  let timer: NodeJS.Timeout | undefined;

  function settle(entry: Running, report: CheckReport): void {
    if (entry.done) return;
    entry.done = true;
    reports[entry.index] = report;
    if (--pending > 0) return;
    if (timer !== undefined) clearTimeout(timer);
    done(reports);
  }

  function arm(): void {
    let next = Number.POSITIVE_INFINITY;
    for (const e of inFlight) if (!e.done && e.cutAt < next) next = e.cutAt;
    // Not unref()ed: it bounds the caller's await.
    timer = setTimeout(cut, Math.max(0, next - performance.now()), next);
  }

  function cut(armedFor: number): void {
    timer = undefined;
    // A timer may fire a fraction of a millisecond before `performance.now()` reaches its mark.
    const now = Math.max(performance.now(), armedFor);
    for (const e of inFlight) {
      if (e.done || e.cutAt > now) continue;
      const error = cutError(e.check, e.atDeadline, deadlineMs);
      e.controller?.abort(error);
      settle(e, timeoutReport(e.check, now - e.started, e.atDeadline, deadlineMs));
    }
    if (pending > 0) arm();
  }

  queueMicrotask(() => {
    if (pending > 0) arm();
  });
}
