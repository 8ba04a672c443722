import {
  abortable,
  type Clock,
  type Duration,
  systemClock,
  throwIfAborted,
  type Unsubscribe,
} from '@org/core';
import type { Alerts } from './alerts.js';
import { check, invalidOption } from './errors.js';

/**
 * What {@link attachBreakerAlerts} needs of a breaker (an `@org/resilience` breaker, or anything
 * with the same events): `on` for `open`, `close` and `failure`, each with one payload object.
 */
export interface BreakerLike {
  on(
    event: 'open',
    listener: (e: {
      name: string;
      trips: number;
      openUntil: number;
      remote: boolean;
      error?: unknown;
    }) => unknown,
  ): Unsubscribe;
  on(event: 'close', listener: (e: { name: string; remote: boolean }) => unknown): Unsubscribe;
  on(event: 'failure', listener: (e: { name: string; error: unknown }) => unknown): Unsubscribe;
}

/** Options of {@link attachBreakerAlerts}. */
export interface BreakerAlertOptions {
  /** Alert also when another instance opened or closed the breaker (shared state). @default false */
  remote?: boolean | undefined;
}

const offAll = (offs: Unsubscribe[]): Unsubscribe => {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    for (const off of offs) off();
  };
};

/**
 * Turns breakers opening (`error`, with the breaker's name and the failure that opened it) and
 * closing (`info`) into `circuit_breaker` alerts. Returns a function that unsubscribes.
 */
export function attachBreakerAlerts(
  breakers: BreakerLike | Iterable<BreakerLike>,
  alerts: Pick<Alerts, 'alert'>,
  options: BreakerAlertOptions = {},
): Unsubscribe {
  const remote = check.boolean(options.remote, 'remote', false);
  const list = Symbol.iterator in breakers ? [...breakers] : [breakers];
  const offs: Unsubscribe[] = [];
  for (const breaker of list) {
    let lastError: unknown;
    offs.push(
      breaker.on('failure', (e) => {
        lastError = e.error;
      }),
      breaker.on('open', (e) => {
        if (e.remote && !remote) return;
        const error = e.error ?? lastError;
        alerts.alert('circuit_breaker', {
          level: 'error',
          message: `Circuit breaker "${e.name}" opened`,
          error,
          tags: { breaker: e.name, state: 'open' },
          fingerprint: ['circuit_breaker', e.name, 'open'],
          data: {
            trips: e.trips,
            openUntil: new Date(e.openUntil).toISOString(),
            remote: e.remote,
          },
        });
      }),
      breaker.on('close', (e) => {
        if (e.remote && !remote) return;
        lastError = undefined;
        alerts.alert('circuit_breaker', {
          level: 'info',
          message: `Circuit breaker "${e.name}" closed`,
          tags: { breaker: e.name, state: 'closed' },
          fingerprint: ['circuit_breaker', e.name, 'close'],
          data: { remote: e.remote },
        });
      }),
    );
  }
  return offAll(offs);
}

/** What {@link attachRateLimitAlerts} needs of a limiter (`@org/rate-limit`): its `limited` event. */
export interface RateLimiterLike {
  on(
    event: 'limited',
    listener: (e: {
      tier: string;
      id: string;
      retryAfterMs: number;
      reason: 'limited' | 'denied';
    }) => unknown,
  ): Unsubscribe;
}

/** Options of {@link attachRateLimitAlerts}. */
export interface RateLimitAlertOptions {
  /** Refusals of one id in one tier, within `window`, that make a `security_event`. @default 20 */
  threshold?: number | undefined;
  /** The window the refusals are counted in. @default '1m' */
  window?: Duration | undefined;
  /** Only these tiers (`['auth']`). @default every tier */
  tiers?: readonly string[] | undefined;
  /** Ids tracked per window at most; past it, new ids are not counted. @default 10000 */
  maxIds?: number | undefined;
  /** @default systemClock */
  clock?: Clock | undefined;
}

/**
 * A tier hammered by one id becomes a `security_event`: once `threshold` refusals of the same id
 * and tier fall in one `window` (one alert per id, tier and window). Returns an unsubscribe.
 */
export function attachRateLimitAlerts(
  limiter: RateLimiterLike,
  alerts: Pick<Alerts, 'alert'>,
  options: RateLimitAlertOptions = {},
): Unsubscribe {
  const threshold = check.integer(options.threshold, 'threshold', 20, { min: 1 });
  const windowMs = check.duration(options.window, 'window', '1m', { above: 0 });
  const maxIds = check.integer(options.maxIds, 'maxIds', 10_000, { min: 1 });
  const tiers = options.tiers === undefined ? undefined : new Set(options.tiers);
  const clock = options.clock ?? systemClock;
  let start = clock.now();
  let counts = new Map<string, number>();
  return limiter.on('limited', (e) => {
    if (tiers && !tiers.has(e.tier)) return;
    const now = clock.now();
    if (now - start >= windowMs) {
      start = now;
      counts = new Map();
    }
    const key = `${e.tier}\u0000${e.id}`;
    const n = (counts.get(key) ?? 0) + 1;
    if (n === 1 && counts.size >= maxIds) return;
    counts.set(key, n);
    if (n !== threshold) return;
    alerts.alert('security_event', {
      message: `Rate-limit tier "${e.tier}" hammered by one client`,
      tags: { tier: e.tier, reason: e.reason },
      fingerprint: ['security_event', 'rate_limit', e.tier, e.id],
      data: { id: e.id, refused: n, windowMs, retryAfterMs: e.retryAfterMs },
    });
  });
}

/** What {@link attachHealthAlerts} needs of a health instance (`@org/health`): `checkChange`. */
export interface HealthLike {
  on(
    event: 'checkChange',
    listener: (e: {
      check: string;
      from: string | undefined;
      to: string;
      reason?: string;
    }) => unknown,
  ): Unsubscribe;
}

/** Options of {@link attachHealthAlerts}. */
export interface HealthAlertOptions {
  /** The critical checks, by name (or a test). @default every check */
  critical?: readonly string[] | ((check: string) => boolean) | undefined;
  /** Also an `info` alert when a check that failed is `ok` again. @default true */
  recovery?: boolean | undefined;
}

const UNHEALTHY = new Set(['fail', 'timeout']);

/**
 * A critical check turning unhealthy (`fail` or `timeout`) becomes an `error` alert of kind
 * `health_check`, with the check's name and reason; its recovery an `info` one. Returns an
 * unsubscribe.
 */
export function attachHealthAlerts(
  health: HealthLike,
  alerts: Pick<Alerts, 'alert'>,
  options: HealthAlertOptions = {},
): Unsubscribe {
  const recovery = check.boolean(options.recovery, 'recovery', true);
  const c = options.critical;
  const isCritical =
    c === undefined ? () => true : typeof c === 'function' ? c : (name: string) => c.includes(name);
  return health.on('checkChange', (e) => {
    if (!isCritical(e.check)) return;
    const down = UNHEALTHY.has(e.to);
    const wasDown = e.from !== undefined && UNHEALTHY.has(e.from);
    if (down && !wasDown) {
      alerts.alert('health_check', {
        level: 'error',
        message: `Health check "${e.check}" is ${e.to === 'timeout' ? 'timing out' : 'failing'}`,
        tags: { check: e.check, status: e.to },
        fingerprint: ['health_check', e.check, 'down'],
        data: { from: e.from ?? null, reason: e.reason ?? null },
      });
    } else if (!down && wasDown && recovery) {
      alerts.alert('health_check', {
        level: 'info',
        message: `Health check "${e.check}" recovered`,
        tags: { check: e.check, status: e.to },
        fingerprint: ['health_check', e.check, 'up'],
      });
    }
  });
}

/** What {@link alertsShutdown} needs of an alerts instance: `flush` and `close`. */
export type AlertsLike = Pick<Alerts, 'flush' | 'close'>;

/** Options of {@link alertsShutdown}. */
export interface AlertsShutdownOptions {
  /**
   * Longest wait for the queue to empty; the closer's signal may end it sooner. Keep it under
   * `@org/health`'s `closerTimeout`. @default '4s'
   */
  timeout?: Duration | undefined;
}

/**
 * A graceful-shutdown closer, as `@org/health`'s `onShutdown` takes it: its signal aborts when
 * the closer's time is up.
 */
export type AlertsShutdownCloser = (signal?: AbortSignal) => Promise<void>;

/**
 * A closer for `@org/health`'s graceful shutdown (`health.onShutdown(alertsShutdown(alerts))`):
 * sends what is queued within `timeout` and the closer's signal, then closes the instance.
 * Typed by shape: `@org/alerts` does not import `@org/health`. The instance is closed in every
 * case; when the queue could not be emptied in time, the closer rejects with core's
 * `TimeoutError` or `AbortedError` (the events left are dropped), so the shutdown reports it.
 * Register it after the closers whose failures should still become alerts.
 */
export function alertsShutdown(
  alerts: AlertsLike,
  options: AlertsShutdownOptions = {},
): AlertsShutdownCloser {
  if (
    typeof alerts !== 'object' ||
    alerts === null ||
    typeof alerts.flush !== 'function' ||
    typeof alerts.close !== 'function'
  ) {
    throw invalidOption('alertsShutdown(alerts): pass the instance createAlerts() returned');
  }
  const o = check.object(options, 'options') as AlertsShutdownOptions;
  const timeoutMs = check.duration(o.timeout, 'timeout', '4s', { min: 0 });
  let running: Promise<void> | undefined;
  const run = async (signal: AbortSignal | undefined) => {
    try {
      throwIfAborted(signal, 'Flushing alerts at shutdown');
      await alerts.flush(timeoutMs, signal === undefined ? {} : { signal });
    } finally {
      // Closing aborts a request still in flight, so it is quick even with Sentry hanging.
      await alerts.close();
    }
  };
  return (signal) => {
    running ??= run(signal);
    // A second caller waits for the same run, within its own signal.
    return abortable(running, signal, 'Flushing alerts at shutdown');
  };
}
