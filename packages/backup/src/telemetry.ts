/**
 * Backup's OpenTelemetry instruments and spans (recorded only when the app registers an SDK; see
 * `createTelemetry` in @org/core). Attributes are the database name, the target name, the stage,
 * the outcome and the error code: never a backup id, an object key or a URL.
 */
import { type Clock, createTelemetry, errorType, type TelemetryAttributes } from '@org/core';

/** Bucket boundaries in seconds for stages that take from a second to hours. */
export const STAGE_BOUNDARIES: readonly number[] = [
  0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200,
];

export const telemetry = createTelemetry(
  { name: '@org/backup' },
  {
    runs: {
      kind: 'counter',
      name: 'org.backup.runs',
      unit: '{run}',
      description:
        'Backup runs per target by outcome: succeeded (stored, run complete), partial (stored, another target failed), failed (not stored here).',
    },
    bytes: {
      kind: 'counter',
      name: 'org.backup.bytes',
      unit: 'By',
      description:
        "Bytes per target: 'dump' is pg_dump's output, 'stored' the encrypted object a target holds.",
    },
    stageDuration: {
      kind: 'histogram',
      name: 'org.backup.stage.duration',
      unit: 's',
      description:
        'Duration of each stage (dump, upload, download, restore, restore_test) by target and error.',
      boundaries: STAGE_BOUNDARIES,
    },
    restores: {
      kind: 'counter',
      name: 'org.backup.restores',
      unit: '{restore}',
      description: 'Restores by target and outcome (succeeded, failed with error.type).',
    },
    verifications: {
      kind: 'counter',
      name: 'org.backup.verifications',
      unit: '{verification}',
      description: 'Restore tests (verify) by target and outcome (succeeded, failed).',
    },
    verifiedAge: {
      kind: 'observableGauge',
      name: 'org.backup.verified.age',
      unit: 's',
      description:
        'Seconds since the newest backup of a database on a target passed its restore test, observed at each collection (it grows between verifies) for every database and target this process learned of (verify, lastVerifiedAt, the health check).',
    },
  },
);

/** A stage of a run, a restore or a restore test. */
export type Stage = 'dump' | 'upload' | 'download' | 'restore' | 'restore_test';

const SPAN: Record<Stage, string> = {
  dump: 'backup pg_dump',
  upload: 'backup upload',
  download: 'backup download',
  restore: 'backup pg_restore',
  restore_test: 'backup restore_test',
};

/** `database` (and `target`) as attributes. */
function where(database: string, target?: string): TelemetryAttributes {
  const a: TelemetryAttributes = { 'db.system.name': 'postgresql', 'db.namespace': database };
  if (target !== undefined) a['org.backup.target'] = target;
  return a;
}

/**
 * Runs one stage in a client span (a child of the caller's: the run's, the restore's) and records
 * its duration; a plain call when no SDK is registered.
 */
export function observeStage<T>(
  stage: Stage,
  database: string,
  target: string | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  if (!telemetry.enabled()) return fn();
  const attributes = { ...where(database, target), 'org.backup.stage': stage };
  return telemetry.observe(
    SPAN[stage],
    attributes,
    () => fn(),
    (m, seconds, err) =>
      m.stageDuration.record(
        seconds,
        err === undefined ? attributes : { ...attributes, 'error.type': errorType(err) },
      ),
    { kind: 'client' },
  );
}

/** Runs a whole operation (`backup run`, `backup restore`, `backup verify`) in an internal span. */
export function inOperation<T>(
  operation: 'run' | 'restore' | 'verify',
  database: string,
  fn: () => Promise<T>,
): Promise<T> {
  if (!telemetry.tracing()) return fn();
  return telemetry.withSpan(`backup ${operation}`, where(database), () => fn());
}

/** Counts one run on each target, with bytes: `stored` only where the target holds the backup. */
export function recordRun(
  database: string,
  targets: Record<string, 'complete' | 'failed'>,
  run: 'complete' | 'partial' | 'failed',
  dumpBytes: number | undefined,
  storedBytes: number | undefined,
  error?: unknown,
): void {
  const m = telemetry.metrics();
  if (m === undefined) return;
  for (const [target, status] of Object.entries(targets)) {
    const a = where(database, target);
    const outcome =
      status === 'failed' ? 'failed' : run === 'complete' ? 'succeeded' : ('partial' as const);
    m.runs.add(1, {
      ...a,
      'org.backup.outcome': outcome,
      ...(outcome === 'failed' && error !== undefined ? { 'error.type': errorType(error) } : {}),
    });
    if (dumpBytes !== undefined) m.bytes.add(dumpBytes, { ...a, 'org.backup.bytes.kind': 'dump' });
    if (status === 'complete' && storedBytes !== undefined)
      m.bytes.add(storedBytes, { ...a, 'org.backup.bytes.kind': 'stored' });
  }
}

/** Counts one restore or restore test on `target`. */
export function recordOutcome(
  what: 'restores' | 'verifications',
  database: string,
  target: string,
  error: unknown,
): void {
  const m = telemetry.metrics();
  if (m === undefined) return;
  const a: TelemetryAttributes = { ...where(database, target), 'org.backup.outcome': 'succeeded' };
  if (error !== undefined) {
    a['org.backup.outcome'] = 'failed';
    // A failure without an error (tables that differ) comes as its code.
    a['error.type'] = typeof error === 'string' ? error : errorType(error);
  }
  m[what].add(1, a);
}

/** What one backup instance learned: when the newest backup of each database and target passed. */
interface Verified {
  readonly clock: Clock;
  /** By `database` and `target`: the time in ms since the epoch, and the attributes. */
  readonly pairs: Map<string, { at: number; attributes: TelemetryAttributes }>;
}

// By the instance's resolved options: what an instance learns lives and goes with it.
const learned = new WeakMap<object, Verified>();

/**
 * Reports, at each collection, the age in seconds (never negative) of the newest passing restore
 * test of every database and target `owner` learned of with {@link learnVerifiedAt}: it grows
 * between verifies, so an alert on it fires even if nothing reads it. Returns the function
 * `close()` calls.
 */
export function observeVerifiedAge(owner: object, clock: Clock): () => void {
  const verified: Verified = { clock, pairs: new Map() };
  learned.set(owner, verified);
  return telemetry.addCallback('verifiedAge', verified, (v, result) => {
    const now = v.clock.now();
    for (const { at, attributes } of v.pairs.values())
      result.observe(Math.max(0, (now - at) / 1000), attributes);
  });
}

/**
 * Notes that a backup of `database` on `target` passed its restore test at `at` (ms since the
 * epoch): a verify that succeeded, or what `lastVerifiedAt` read. An older time than one known
 * already changes nothing (a look-up that raced a verify).
 */
export function learnVerifiedAt(owner: object, database: string, target: string, at: number): void {
  const pairs = learned.get(owner)?.pairs;
  if (pairs === undefined || !Number.isFinite(at)) return;
  const key = `${database}\0${target}`;
  const known = pairs.get(key);
  if (known === undefined) pairs.set(key, { at, attributes: where(database, target) });
  else if (at > known.at) known.at = at;
}
