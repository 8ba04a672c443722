import { type Clock, type Duration, systemClock } from '@org/core';
import { type Client, dsnFromString, type Event } from '@sentry/core';
import { check, invalidOption } from './errors.js';
import type { Tags } from './event.js';

/** Options of {@link createAlerts}. */
export interface AlertsOptions {
  /**
   * Where to send: a Sentry DSN. Without one (and without `client`) each event is one JSON line
   * on stderr. `createAlertsFromEnv` reads it from `SENTRY_DSN`.
   */
  dsn?: string | undefined;
  /** Sentry's `environment` of every event (`production`, `staging`). */
  environment?: string | undefined;
  /** Sentry's `release` of every event (a version or commit). */
  release?: string | undefined;
  /**
   * An app's own Sentry client (`Sentry.getClient()`): events go to it through a scope of this
   * package's, and `close()` leaves it open. Takes precedence over `dsn`.
   */
  client?: Client | undefined;
  /** Share of `captureException` calls kept, from 0 to 1 (alerts are always kept). @default 1 */
  sampleRate?: number | undefined;
  /**
   * At most `max` events per fingerprint per `window`; the rest are counted and reported by one
   * summary event (`extra.suppressed`) when the window ends or on `flush()`. `false` turns it off.
   * @default { max: 10, window: '1m' }
   */
  throttle?: { max?: number | undefined; window?: Duration | undefined } | false | undefined;
  /**
   * A last step after the built-in scrubber (which cannot be turned off): return the event to
   * send, or `null` to drop it.
   */
  scrub?: ((event: Event) => Event | null) | undefined;
  /**
   * The bounded queue in front of Sentry. `max` events wait at most; when full, new events are
   * dropped (and counted on the next one sent). Through an outage the queue is retried after
   * `Retry-After` or a backoff doubling from 100 ms to `maxBackoff`.
   * @default { max: 100, maxBackoff: '30s' }
   */
  queue?: { max?: number | undefined; maxBackoff?: Duration | undefined } | undefined;
  /** Bound of each request to Sentry. @default '5s' */
  timeout?: Duration | undefined;
  /** Tags on every event. */
  tags?: Tags | undefined;
  /** Breadcrumbs kept for the events that follow them. @default 50 */
  maxBreadcrumbs?: number | undefined;
  /** Where JSON lines go without a DSN. @default a line on process.stderr */
  log?: ((line: string) => void) | undefined;
  /** Time source of timestamps and throttle windows. @default systemClock */
  clock?: Clock | undefined;
}

/**
 * The grammar of a DSN as @sentry/core parses it. A string that fails it is refused here, before
 * `dsnFromString`, which writes "Invalid Sentry Dsn: <the value>" to the console: whatever was
 * put into SENTRY_DSN by mistake (a token, a password) must not reach the logs.
 */
const DSN_SHAPE =
  /^(?:(\w+):)\/\/(?:(\w+)(?::(\w+)?)?@)((?:\[[:.%\w]+\]|[\w.-]+))(?::(\d+))?\/(.+)/;

/** The options of {@link createAlerts}, checked, with their defaults. */
export function resolveOptions(options: AlertsOptions) {
  const o = check.object(options, 'options');
  const clock: Clock = o.clock ?? systemClock;
  const dsn = o.dsn === undefined || o.dsn === '' ? undefined : o.dsn;
  if (
    dsn !== undefined &&
    (typeof dsn !== 'string' || !DSN_SHAPE.test(dsn) || dsnFromString(dsn) === undefined)
  ) {
    throw invalidOption(
      '`dsn` must be a Sentry DSN (https://<key>@<host>/<project>); check SENTRY_DSN',
    );
  }
  const sampleRate = check.number(o.sampleRate, 'sampleRate', 1, { min: 0, max: 1 });
  const timeoutMs = check.duration(o.timeout, 'timeout', '5s', { above: 0 });
  const q = check.object(o.queue, 'queue');
  const queueMax = check.integer(q.max, 'queue.max', 100, { min: 1, max: 100_000 });
  const maxBackoffMs = check.duration(q.maxBackoff, 'queue.maxBackoff', '30s', { above: 0 });
  const t = o.throttle === false ? undefined : check.object(o.throttle, 'throttle');
  const throttleMax = check.integer(t?.max, 'throttle.max', 10, { min: 0 });
  const windowMs = check.duration(t?.window, 'throttle.window', '1m', { above: 0 });
  const maxBreadcrumbs = check.integer(o.maxBreadcrumbs, 'maxBreadcrumbs', 50, {
    min: 0,
    max: 100,
  });
  const extraScrub = check.func<(e: Event) => Event | null>(o.scrub, 'scrub');
  const log = check.func<(line: string) => void>(o.log, 'log');
  if (o.client !== undefined && typeof (o.client as Client)?.captureEvent !== 'function') {
    throw invalidOption('`client` must be a Sentry client (Sentry.getClient())');
  }

  return {
    o,
    clock,
    dsn,
    sampleRate,
    timeoutMs,
    queueMax,
    maxBackoffMs,
    throttled: t !== undefined,
    throttleMax,
    windowMs,
    maxBreadcrumbs,
    extraScrub,
    log,
  };
}
