import type { HealthReport, IetfCheck, IetfReport, SimpleReport } from './types.js';

const IETF_STATUS = { healthy: 'pass', degraded: 'warn', unhealthy: 'fail' } as const;
const IETF_CHECK = { ok: 'pass', warn: 'warn', fail: 'fail', timeout: 'fail' } as const;

/** The seed's simple form: `{"status": "healthy", "database": "ok", "redis": "timeout"}`. */
export function toSimple(report: HealthReport): SimpleReport {
  const out: SimpleReport = { status: report.status } as SimpleReport;
  for (const [name, c] of Object.entries(report.checks)) out[name] = c.status;
  return out;
}

/**
 * The IETF draft form (`application/health+json`): `pass`/`warn`/`fail`, checks keyed
 * `name:measurement`, each with `observedValue`, `observedUnit`, `time` and, when not passing,
 * `output` (the safe reason). A timeout is a `fail` whose output says so.
 */
export function toIetf(
  report: HealthReport,
  extra: { releaseId?: string; description?: string } = {},
): IetfReport {
  const checks: Record<string, IetfCheck[]> = {};
  for (const [name, c] of Object.entries(report.checks)) {
    const entry: IetfCheck = {
      ...(c.componentId === undefined ? {} : { componentId: c.componentId }),
      ...(c.componentType === undefined ? {} : { componentType: c.componentType }),
      status: IETF_CHECK[c.status],
      observedValue: c.observedValue,
      ...(c.observedUnit === undefined ? {} : { observedUnit: c.observedUnit }),
      time: report.checkedAt,
    };
    if (c.status !== 'ok' && c.reason !== undefined) {
      entry.output = c.status === 'timeout' ? `timeout: ${c.reason}` : c.reason;
    }
    const key = `${name}:${c.measurement}`;
    const list = checks[key] ?? [];
    list.push(entry);
    checks[key] = list;
  }
  const failing = Object.entries(report.checks)
    .filter(([, c]) => c.status !== 'ok')
    .map(([n, c]) => `${n}: ${c.status}`);
  return {
    status: IETF_STATUS[report.status],
    ...(report.version === undefined ? {} : { version: report.version }),
    ...(extra.releaseId === undefined ? {} : { releaseId: extra.releaseId }),
    ...(report.serviceId === undefined ? {} : { serviceId: report.serviceId }),
    ...(extra.description === undefined ? {} : { description: extra.description }),
    ...(failing.length === 0 ? {} : { output: failing.join(', ') }),
    checks,
  };
}
