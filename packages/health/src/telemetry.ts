/**
 * The health checker's OpenTelemetry instruments and spans (recorded only when the app registers
 * an SDK; see `createTelemetry` in @org/core). Attributes are a check's name (the app names its
 * checks: a bounded set), a status, the report kind and an error `code`: never a reason, a URL
 * or a detail of a check.
 */
import { createTelemetry, DURATION_BOUNDARIES } from '@org/core';
import type { CheckFn, CheckReport, HealthReport } from './types.js';

export const telemetry = createTelemetry(
  { name: '@org/health' },
  {
    checkDuration: {
      kind: 'histogram',
      name: 'org.health.check.duration',
      unit: 's',
      description: 'Duration of each check run by a report, by check name and status.',
      boundaries: DURATION_BOUNDARIES,
    },
    checkStatus: {
      kind: 'gauge',
      name: 'org.health.check.status',
      unit: '{status}',
      description: "A check's last status: 0 ok, 1 warn, 2 fail, 3 timeout.",
    },
    reportDuration: {
      kind: 'histogram',
      name: 'org.health.report.duration',
      unit: 's',
      description:
        'Duration of reports that ran their checks (not of cached ones), by kind and status.',
      boundaries: DURATION_BOUNDARIES,
    },
    reportStatus: {
      kind: 'gauge',
      name: 'org.health.report.status',
      unit: '{status}',
      description: "A report kind's last status: 0 healthy, 1 degraded, 2 unhealthy.",
    },
  },
);

const CHECK_STATUS: Record<CheckReport['status'], number> = { ok: 0, warn: 1, fail: 2, timeout: 3 };
const REPORT_STATUS: Record<HealthReport['status'], number> = {
  healthy: 0,
  degraded: 1,
  unhealthy: 2,
};

/** Records a report that ran its checks, and each of them. One check when there is no SDK. */
export function recordReport(kind: 'quick' | 'full', report: HealthReport): void {
  const m = telemetry.metrics();
  if (m === undefined) return;
  m.reportDuration.record(report.durationMs / 1000, {
    'org.health.report.kind': kind,
    'org.health.report.status': report.status,
  });
  m.reportStatus.record(REPORT_STATUS[report.status], { 'org.health.report.kind': kind });
  for (const name in report.checks) {
    const c = report.checks[name] as CheckReport;
    m.checkDuration.record(c.latencyMs / 1000, {
      'org.health.check.name': name,
      'org.health.check.status': c.status,
    });
    m.checkStatus.record(CHECK_STATUS[c.status], { 'org.health.check.name': name });
  }
}

/**
 * Runs a report's checks (`run`, which calls `end` once with the report) in an
 * `org.health.report` span, so that each check's span is its child. `run` is called at once.
 * Called only when `telemetry.tracing()`.
 */
export function traceReport(
  kind: 'quick' | 'full',
  run: (end: (report: HealthReport) => void) => void,
): void {
  let thrown: { error: unknown } | undefined;
  telemetry.withSpan(
    'org.health.report',
    { 'org.health.report.kind': kind },
    (span) =>
      new Promise<void>((resolve) => {
        try {
          run((report) => {
            span?.setAttribute('org.health.report.status', report.status);
            resolve();
          });
        } catch (error) {
          thrown = { error };
          resolve();
        }
      }),
  );
  if (thrown !== undefined) throw thrown.error;
}

/**
 * Calls one check in a client span named `org.health.check` (a check waits on a database, a
 * cache or a URL), ended when the check settles; a throw or rejection is recorded with its
 * `code`. Used only when `telemetry.tracing()` said so for this report.
 */
export function tracedCheck(
  name: string,
  check: CheckFn,
  signal: AbortSignal | undefined,
): unknown {
  return telemetry.withSpan(
    'org.health.check',
    { 'org.health.check.name': name },
    () => (signal ? check(signal) : (check as () => unknown)()),
    { kind: 'client' },
  );
}
