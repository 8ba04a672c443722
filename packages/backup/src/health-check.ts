import { abortable, type Clock, type Duration, optionChecks, systemClock } from '@org/core';
import { invalidOption } from './errors.js';

const check = optionChecks((m) => invalidOption(m));

/** An age for people: minutes below 2 h, hours below 2 days, else days (one decimal). */
function humanAge(ms: number): string {
  const round = (n: number) => Math.round(n * 10) / 10;
  if (ms < 2 * 3_600_000) return `${round(ms / 60_000)} min`;
  if (ms < 2 * 86_400_000) return `${round(ms / 3_600_000)} h`;
  return `${round(ms / 86_400_000)} days`;
}

/** What the check concludes, in the shape `@org/health` reads (`CheckOutcome`). */
export interface BackupAgeOutcome {
  status: 'ok' | 'warn' | 'fail';
  reason?: string;
  measurement: 'age';
  observedValue?: number;
  observedUnit?: 's';
  details: {
    /** The newest verified backup, ISO 8601; null when there is none. */
    lastVerifiedAt: string | null;
    /** Its age in whole seconds; null when there is none. */
    ageSeconds: number | null;
    maxAgeSeconds: number;
  };
}

/**
 * A check in the shape `@org/health`'s `createHealth({ checks })` takes (its `HealthCheck`),
 * declared here so that this package does not depend on `@org/health`.
 */
export interface BackupHealthCheck {
  /** The name it is meant to be registered under: `checks: { [c.name]: c }`. */
  readonly name: string;
  check(signal: AbortSignal): Promise<BackupAgeOutcome>;
  readonly critical: boolean;
  readonly componentType: 'component';
  readonly timeout?: Duration;
}

/** Options of {@link lastVerifiedBackupCheck}. */
export interface LastVerifiedBackupCheckOptions {
  /**
   * When the newest backup was last verified (restored and compared), or undefined when none
   * was; it must stop when `signal` aborts. What it throws fails the check, as it is.
   */
  lastVerifiedAt: (signal: AbortSignal) => Promise<Date | undefined>;
  /**
   * How old the newest verified backup may be before the check warns: ms, or `'26h'`, `'8d'`.
   * Leave room past the schedule: a nightly backup verified weekly wants `'8d'`.
   */
  maxAge: Duration;
  /** The name to register the check under. @default 'backup' */
  name?: string | undefined;
  /**
   * Whether a failure makes the report `unhealthy` (and, in `@org/health`, the instance not
   * ready). A stale backup should alert, not take the service out of its load balancer.
   * @default false
   */
  critical?: boolean | undefined;
  /**
   * How long a looked-up date is reused (listing a bucket on every probe costs money); the age is
   * still computed from the clock at each probe. `0` looks up every time. @default '1m'
   */
  cache?: Duration | undefined;
  /** The check's own timeout in `@org/health`. @default createHealth's `timeout` */
  timeout?: Duration | undefined;
  /** The clock the age is read from. @default systemClock */
  clock?: Clock | undefined;
}

/**
 * A health check of the newest verified backup's age, for `@org/health`:
 * - `ok` while it is at most `maxAge` old (the age, in seconds, is the observed value);
 * - `warn` past `maxAge`: the report is `degraded`;
 * - `fail` when there is no verified backup at all: the report is `degraded`, or `unhealthy`
 *   with `critical: true`.
 * The details carry `lastVerifiedAt`, `ageSeconds` and `maxAgeSeconds`.
 *
 * Throws `ERR_BACKUP_INVALID_OPTION` for a missing `lastVerifiedAt`, a `maxAge` that is not a
 * positive duration, or another malformed option; the check itself fails with that code when
 * `lastVerifiedAt` resolves with something that is not a valid Date.
 */
export function lastVerifiedBackupCheck(
  options: LastVerifiedBackupCheckOptions,
): BackupHealthCheck {
  const o = check.object(options, 'options');
  const lookup = check.func<LastVerifiedBackupCheckOptions['lastVerifiedAt']>(
    o.lastVerifiedAt,
    'lastVerifiedAt',
  );
  if (!lookup) {
    throw invalidOption(
      '`lastVerifiedAt` must be a function (signal) => Promise<Date | undefined>',
    );
  }
  if (o.maxAge === undefined) throw invalidOption("`maxAge` is required: a duration such as '26h'");
  const maxAgeMs = check.duration(o.maxAge, 'maxAge', undefined, { above: 0 })!;
  const name = check.string(o.name, 'name', 'backup');
  if (name === 'status' || name.includes(':')) {
    throw invalidOption('`name` must not be "status" nor hold ":" (health check names)');
  }
  const critical = check.boolean(o.critical, 'critical', false);
  const cacheMs = check.duration(o.cache, 'cache', '1m', { min: 0 });
  const timeout = o.timeout;
  if (timeout !== undefined) check.duration(timeout, 'timeout', undefined, { above: 0 });
  const clock = o.clock ?? systemClock;
  if (typeof clock?.now !== 'function') throw invalidOption('`clock` must be { now(): number }');

  const maxAgeSeconds = Math.floor(maxAgeMs / 1000);
  let cached: { at: number; value: Date | undefined } | undefined;

  async function newest(signal: AbortSignal): Promise<Date | undefined> {
    const now = clock.now();
    // A clock that went backwards expires the cache rather than freezing it.
    if (cached && now >= cached.at && now - cached.at < cacheMs) return cached.value;
    const value: unknown = await abortable(lookup!(signal), signal, 'The backup age lookup');
    if (value !== undefined && !(value instanceof Date && !Number.isNaN(value.getTime()))) {
      throw invalidOption('`lastVerifiedAt` must resolve with a valid Date or undefined');
    }
    cached = { at: now, value };
    return value;
  }

  return {
    name,
    critical,
    componentType: 'component',
    ...(timeout === undefined ? {} : { timeout }),
    async check(signal) {
      const last = await newest(signal);
      if (last === undefined) {
        return {
          status: 'fail',
          reason: 'no verified backup: run `backup verify` (or check that backups run)',
          measurement: 'age',
          details: { lastVerifiedAt: null, ageSeconds: null, maxAgeSeconds },
        };
      }
      // A date ahead of this clock (skew between hosts) reads as age 0, not as negative.
      const ageMs = Math.max(0, clock.now() - last.getTime());
      const ageSeconds = Math.floor(ageMs / 1000);
      const outcome: BackupAgeOutcome = {
        status: 'ok',
        measurement: 'age',
        observedValue: ageSeconds,
        observedUnit: 's',
        details: { lastVerifiedAt: last.toISOString(), ageSeconds, maxAgeSeconds },
      };
      if (ageMs <= maxAgeMs) return outcome;
      return {
        ...outcome,
        status: 'warn',
        reason: `the newest verified backup is ${humanAge(ageMs)} old, past the ${humanAge(maxAgeMs)} allowed`,
      };
    },
  };
}
