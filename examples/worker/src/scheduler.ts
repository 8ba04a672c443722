import {
  AbortedError,
  abortReason,
  type Clock,
  describeError,
  linkSignals,
  scrubString,
  sleep,
  systemClock,
  TimeoutError,
  withTimeout,
} from '@org/core';
import { isWorkerError, WorkerError, WorkerErrorCode } from './errors.js';
import type { JobRecord, StateStore, WorkerState } from './state.js';
import { observeJob } from './telemetry.js';

/** What a job does: a backup, the restore test, or a key rotation. */
export type JobKind = 'backup' | 'verify' | 'rotate';

/** One scheduled job. */
export interface Job {
  /** Unique name, the key of its record in the state (`backup-r2`, `verify`, `rotate`). */
  readonly name: string;
  readonly kind: JobKind;
  /** Time between successful runs, in ms. */
  readonly everyMs: number;
  /**
   * When the job is next due, when something else than its record knows (the key ring knows
   * when its active key was made). @default one `everyMs` after the last successful start
   */
  dueAt?(record: JobRecord | undefined): number;
  /** Does the work; resolves with a summary for the log, throws when it failed. */
  run(signal: AbortSignal): Promise<Record<string, unknown>>;
  /**
   * How early a run may start, in ms. @default a tenth of the interval, at most an hour: an
   * external scheduler firing at 02:00 every day finds yesterday's 02:00:05 run due
   */
  readonly earlyMs?: number | undefined;
  /** The package behind the job alerts its failures itself (`@org/backup` does for runs). */
  readonly alertsOwnFailures?: boolean;
}

/** How one run ended. */
export interface RunReport {
  job: string;
  outcome: 'ok' | 'failed' | 'aborted';
  durationMs: number;
  summary?: Record<string, unknown> | undefined;
  error?: string | undefined;
}

/** A job as the status route shows it. */
export interface JobStatus extends JobRecord {
  job: string;
  kind: JobKind;
  nextRunAt: string;
  running: boolean;
}

/** Options of {@link createScheduler}. */
export interface SchedulerOptions {
  jobs: readonly Job[];
  state: StateStore;
  /** Bound of each run, in ms. */
  timeoutMs: number;
  /** Wait after a failed run before trying again (at most the job's interval), in ms. */
  retryAfterMs: number;
  /** Where failed runs are reported (`@org/alerts` fits). */
  alerts?: { alert(kind: string, details: Record<string, unknown>): unknown } | undefined;
  /** One structured log line. */
  log(event: string, fields: Record<string, unknown>): void;
  /** How long an aborted or cut run gets to clean up before it is abandoned, in ms. @default 20 s */
  settleMs?: number | undefined;
  /** Longest sleep between two looks at the schedule, in ms. @default 1 h */
  maxSleepMs?: number | undefined;
  clock?: Clock | undefined;
}

/** Runs jobs when they are due, one at a time, each bounded and abortable. */
export interface Scheduler {
  /** Starts the in-process loop (unref'd timers: something else keeps the process alive). */
  start(): void;
  /**
   * Runs the jobs (of `kind`) that are due now, or all of them with `force`, one after another.
   * `early` (the default, for an external scheduler) lets a run start up to {@link earlyBy}
   * before its time; the in-process loop wakes on time and passes `early: false`.
   */
  runDue(options?: {
    kind?: JobKind | undefined;
    force?: boolean | undefined;
    early?: boolean | undefined;
  }): Promise<RunReport[]>;
  /** Every job: its last run and when it is next due. */
  status(): JobStatus[];
  /** Stops the loop, aborts a run under way and waits for it to settle. Idempotent. */
  close(): Promise<void>;
}

const HOUR = 3_600_000;
const time = (iso: string | undefined) => (iso === undefined ? undefined : Date.parse(iso));

/**
 * When `job` is next due, from its record: one interval after the last successful start; after a
 * failed run, not before `retryAfterMs` (capped at the interval) has passed since it started.
 * With `early`, the interval-based time moves forward by {@link earlyBy} (the retry wait does not).
 */
export function nextRunAt(
  job: Job,
  record: JobRecord | undefined,
  retryAfterMs: number,
  early = false,
): number {
  const lastOk = time(record?.lastOkAt);
  let next = job.dueAt ? job.dueAt(record) : lastOk === undefined ? 0 : lastOk + job.everyMs;
  if (early) next -= earlyBy(job);
  const lastStart = time(record?.lastStartedAt);
  if (lastStart !== undefined && record?.outcome === 'failed') {
    next = Math.max(next, lastStart + Math.min(retryAfterMs, job.everyMs));
  }
  return next;
}

/**
 * `work`, but once `signal` aborts it gets `graceMs` to settle (to clean up: kill `pg_dump`, drop
 * the scratch database), after which it is abandoned with the signal's reason.
 */
async function settled<T>(work: Promise<T>, signal: AbortSignal, graceMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const abandoned = new Promise<never>((_, reject) => {
    const onAbort = () => {
      timer = setTimeout(() => reject(abortReason(signal)), graceMs);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  abandoned.catch(() => {});
  try {
    return await Promise.race([work, abandoned]);
  } finally {
    clearTimeout(timer);
  }
}

/** How early `job` may start: see {@link Job.earlyMs}. */
export const earlyBy = (job: Job): number => job.earlyMs ?? Math.min(job.everyMs / 10, HOUR);

const positive = (n: unknown) => typeof n === 'number' && Number.isFinite(n) && n > 0;

function check(o: SchedulerOptions): SchedulerOptions {
  const bad = (what: string) => {
    throw new WorkerError(WorkerErrorCode.InvalidOption, `createScheduler: ${what}`);
  };
  if (typeof o !== 'object' || o === null) bad('options must be an object');
  if (!Array.isArray(o.jobs) || o.jobs.length === 0) bad('`jobs` must list at least one job');
  const names = new Set<string>();
  for (const j of o.jobs) {
    if (typeof j?.name !== 'string' || j.name === '' || names.has(j.name))
      bad('each job needs a unique `name`');
    if (!positive(j.everyMs)) bad(`job ${j.name}: \`everyMs\` must be a positive number of ms`);
    if (typeof j.run !== 'function') bad(`job ${j.name}: \`run\` must be a function`);
    names.add(j.name);
  }
  if (typeof o.state?.load !== 'function' || typeof o.state.save !== 'function')
    bad('`state` must have load() and save()');
  if (!positive(o.timeoutMs)) bad('`timeoutMs` must be a positive number of ms');
  if (!(o.retryAfterMs >= 0)) bad('`retryAfterMs` must be 0 or more ms');
  if (typeof o.log !== 'function') bad('`log` must be a function');
  return o;
}

/** The scheduler of {@link Scheduler}; nothing runs before `start()` or `runDue()`. */
export function createScheduler(options: SchedulerOptions): Scheduler {
  const { jobs, state: store, timeoutMs, retryAfterMs, alerts, log } = check(options);
  const clock = options.clock ?? systemClock;
  const maxSleepMs = options.maxSleepMs ?? HOUR;
  // A little past the bound the job's package keeps itself, so that its own timeout (and alert) wins.
  const outerMs = timeoutMs + Math.min(5_000, timeoutMs);
  const settleMs = options.settleMs ?? 20_000;
  const closing = new AbortController();
  let state: WorkerState | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  let running: string | undefined;
  let loop: Promise<void> | undefined;

  const loaded = async (): Promise<WorkerState> => {
    state ??= await store.load(closing.signal);
    return state;
  };

  const save = async (s: WorkerState) => {
    try {
      await withTimeout((signal) => store.save(s, signal), {
        timeoutMs: 30_000,
        what: 'Saving the worker state',
      });
    } catch (err) {
      // Not fatal: after a restart the job may run once more, which is safe.
      log('state-not-saved', { level: 'warn', error: describeError(err) });
    }
  };

  async function runOne(job: Job, s: WorkerState): Promise<RunReport> {
    const started = clock.now();
    const record: JobRecord = {
      ...s.jobs[job.name],
      lastStartedAt: new Date(started).toISOString(),
    };
    running = job.name;
    log('run-started', { job: job.name });
    const linked = linkSignals(closing.signal);
    const cut = new TimeoutError(outerMs, `The ${job.name} run`);
    const timer = setTimeout(() => linked.controller.abort(cut), outerMs);
    let report: RunReport;
    try {
      const summary = await observeJob(
        job,
        () => closing.signal.aborted,
        () => settled(job.run(linked.signal), linked.signal, settleMs),
      );
      record.outcome = 'ok';
      record.lastOkAt = record.lastStartedAt;
      record.error = undefined;
      record.summary = summary;
      report = { job: job.name, outcome: 'ok', durationMs: clock.now() - started, summary };
    } catch (thrown) {
      // What the job rejects with after our cut may be its own wrapper: the cut is the story.
      const err = linked.signal.reason === cut ? cut : thrown;
      const aborted = closing.signal.aborted;
      const error = scrubString(describeError(err, 500), { mode: 'reason' });
      record.outcome = aborted ? 'aborted' : 'failed';
      record.error = error;
      report = { job: job.name, outcome: record.outcome, durationMs: clock.now() - started, error };
      // The package alerted, unless our own outer bound cut a run the package did not stop.
      const outerCut = err === cut;
      const packageAlerted =
        (job.alertsOwnFailures === true && !outerCut) ||
        isWorkerError(err, WorkerErrorCode.RunFailed);
      if (!aborted && !packageAlerted) {
        alerts?.alert('worker_run_failed', {
          level: 'error',
          message: `The scheduled ${job.name} run failed: ${error}`,
          tags: { job: job.name, kind: job.kind },
          data: { code: (err as { code?: unknown })?.code, durationMs: report.durationMs },
        });
      }
    } finally {
      clearTimeout(timer);
      linked.dispose();
      running = undefined;
    }
    record.lastFinishedAt = new Date(clock.now()).toISOString();
    s.jobs[job.name] = record;
    await save(s);
    log('run-finished', { ...report, level: report.outcome === 'failed' ? 'error' : 'info' });
    return report;
  }

  const isDue = (job: Job, s: WorkerState, early: boolean) =>
    clock.now() >= nextRunAt(job, s.jobs[job.name], retryAfterMs, early);

  /** One run of the queue at a time: the loop and `runDue` never overlap. */
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = queue.then(fn, fn);
    queue = next.catch(() => {});
    return next;
  };

  const runDue: Scheduler['runDue'] = (opts = {}) =>
    exclusive(async () => {
      const s = await loaded();
      const reports: RunReport[] = [];
      for (const job of jobs) {
        if (closing.signal.aborted) break;
        if (opts.kind !== undefined && job.kind !== opts.kind) continue;
        if (!opts.force && !isDue(job, s, opts.early ?? true)) continue;
        reports.push(await runOne(job, s));
      }
      return reports;
    });

  const nextWake = (s: WorkerState) =>
    Math.min(...jobs.map((j) => nextRunAt(j, s.jobs[j.name], retryAfterMs)));

  async function forever(): Promise<void> {
    while (!closing.signal.aborted) {
      let wait = maxSleepMs;
      try {
        // On time, not early: a daily run that started an hour early each day would drift.
        await runDue({ early: false });
        wait = Math.min(maxSleepMs, Math.max(250, nextWake(await loaded()) - clock.now()));
      } catch (err) {
        if (closing.signal.aborted) return;
        // The state could not be read (the r2 target is down): nothing can run until it can.
        const error = scrubString(describeError(err), { mode: 'reason' });
        log('schedule-error', { level: 'error', error });
        alerts?.alert('worker_schedule_failed', {
          level: 'error',
          message: `The worker cannot read its schedule's state: ${error}`,
          tags: { job: 'schedule' },
        });
        wait = Math.min(maxSleepMs, retryAfterMs, 5 * 60_000);
      }
      try {
        await sleep(wait, closing.signal, { unref: true });
      } catch {
        return;
      }
    }
  }

  return {
    start() {
      if (closing.signal.aborted) {
        throw new WorkerError(
          WorkerErrorCode.InvalidOption,
          'The scheduler was closed: create a new worker',
        );
      }
      loop ??= forever();
    },
    runDue,
    status() {
      return jobs.map((job) => {
        const record = state?.jobs[job.name];
        return {
          job: job.name,
          kind: job.kind,
          ...record,
          nextRunAt: new Date(
            Math.max(clock.now(), nextRunAt(job, record, retryAfterMs)),
          ).toISOString(),
          running: running === job.name,
        };
      });
    },
    async close() {
      closing.abort(new AbortedError('the worker is shutting down', 'A scheduled run'));
      await loop;
      await queue;
    },
  };
}
