/**
 * The worker's own OpenTelemetry instruments and span (recorded only when an SDK is registered;
 * see `createTelemetry` in @org/core): one span per scheduled run, under which the packages'
 * spans nest (`backup run` → `backup pg_dump`, `backup upload` …), and runs by job and outcome.
 * Attributes are the job's name and kind, the outcome and the error code: bounded by the schedule.
 */
import { createTelemetry, errorType } from '@org/core';

/** Bucket boundaries in seconds: a key rotation takes a second, a backup may take hours. */
const RUN_BOUNDARIES: readonly number[] = [0.1, 0.5, 1, 5, 10, 30, 60, 300, 600, 1800, 3600, 7200];

export const telemetry = createTelemetry(
  { name: '@org/example-worker' },
  {
    runs: {
      kind: 'counter',
      name: 'org.worker.job.runs',
      unit: '{run}',
      description: 'Scheduled runs by job and outcome (ok, failed, aborted).',
    },
    duration: {
      kind: 'histogram',
      name: 'org.worker.job.duration',
      unit: 's',
      description: 'Duration of scheduled runs by job and outcome.',
      boundaries: RUN_BOUNDARIES,
    },
  },
);

/**
 * Runs one job in a span `worker <kind>` and records its outcome and duration; `aborted()` tells
 * a shutdown from a failure. A plain call when no SDK is registered.
 */
export function observeJob<T>(
  job: { name: string; kind: string },
  aborted: () => boolean,
  fn: () => Promise<T>,
): Promise<T> {
  if (!telemetry.enabled()) return fn();
  const attributes = { 'org.worker.job': job.name, 'org.worker.job.kind': job.kind };
  return telemetry.observe(
    `worker ${job.kind}`,
    attributes,
    () => fn(),
    (m, seconds, err) => {
      const a =
        err === undefined
          ? { ...attributes, 'org.worker.job.outcome': 'ok' }
          : {
              ...attributes,
              'org.worker.job.outcome': aborted() ? 'aborted' : 'failed',
              'error.type': errorType(err),
            };
      m.runs.add(1, a);
      m.duration.record(seconds, a);
    },
  );
}
