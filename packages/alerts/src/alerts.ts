import type { Duration, Events } from '@org/core';
import { type Breadcrumb, createStackParser, type Event, nodeStackLineParser } from '@sentry/core';
import { check } from './errors.js';
import {
  type AlertDetails,
  type AlertKind,
  buildEvent,
  type CaptureContext,
  errorFingerprint,
  KIND_LEVEL,
  type KnownAlertKind,
  type Raw,
  type Tags,
} from './event.js';
import { type AlertsEvents, createAlertsEmitter } from './events.js';
import { type AlertsOptions, resolveOptions } from './options.js';
import { Outbox, type Sink } from './outbox.js';
import { scrub } from './scrub.js';
import { appClientSink, lineSink, ownClientSink } from './sinks.js';
import { recordThrottled } from './telemetry.js';
import { Throttle } from './throttle.js';

/** An alerts instance: capture, alert, flush, close. Capturing never throws and never waits. */
export interface Alerts extends Events<AlertsEvents> {
  /**
   * Queues `err` for Sentry (or stderr). Returns at once: false when it was sampled out,
   * throttled or dropped by a full queue. Never throws.
   */
  captureException(err: unknown, context?: CaptureContext): boolean;
  /** Queues an alert of `kind` (`circuit_breaker`, `payment_failure` … or the app's own). */
  alert(kind: AlertKind, details?: AlertDetails): boolean;
  /** Keeps a breadcrumb (scrubbed) for the events that follow it. */
  addBreadcrumb(breadcrumb: Breadcrumb): void;
  /**
   * Sends the pending throttle summaries and waits until the queue is empty. Rejects with core's
   * `TimeoutError` past `timeout` (events stay queued) or `AbortedError`.
   * @param timeout @default '5s'
   */
  flush(timeout?: Duration, options?: { signal?: AbortSignal }): Promise<void>;
  /** Events waiting to be sent. */
  readonly queued: number;
  /** Stops timers, forgets the queue and closes the client it created (an app's stays open). */
  close(): Promise<void>;
  /** Where events go. */
  readonly destination: 'sentry' | 'client' | 'stderr';
}

const stackParser = createStackParser(nodeStackLineParser());

/** Creates an alerts instance on its own Sentry client (never a global `init`). */
export function createAlerts(options: AlertsOptions = {}): Alerts {
  const {
    o,
    clock,
    dsn,
    sampleRate,
    timeoutMs,
    queueMax,
    maxBackoffMs,
    throttled,
    throttleMax,
    windowMs,
    maxBreadcrumbs,
    extraScrub,
    log,
  } = resolveOptions(options);

  const events = createAlertsEmitter();
  const tags: Tags = { ...o.tags };
  const crumbs: Breadcrumb[] = [];
  const sink: Sink = o.client
    ? appClientSink(o.client)
    : dsn !== undefined
      ? ownClientSink({
          dsn,
          environment: o.environment,
          release: o.release,
          timeoutMs,
          stackParser,
          now: () => clock.now(),
        })
      : lineSink(log ?? ((line) => process.stderr.write(`${line}\n`)));
  const defaults = {
    environment: o.environment,
    release: o.release,
    tags,
    breadcrumbs: () => crumbs.slice(),
    stackParser,
  };
  const build = (raw: Raw): Event | null => {
    const event = buildEvent(raw, defaults);
    return extraScrub ? extraScrub(event) : event;
  };
  const destination = o.client ? 'client' : dsn !== undefined ? 'sentry' : 'stderr';
  const outbox = new Outbox(queueMax, maxBackoffMs, build, sink, events, destination);
  const throttle = !throttled ? undefined : new Throttle(throttleMax, windowMs, clock);
  const samples = new Map<string, Raw>();
  let sweep: NodeJS.Timeout | undefined;
  let closed = false;

  const summaryOf = (key: string, suppressed: number, sinceMs: number): Raw | undefined => {
    const sample = samples.get(key);
    samples.delete(key);
    if (sample === undefined) return undefined;
    const title =
      sample.message ?? (sample.error instanceof Error ? sample.error.message : sample.kind);
    return {
      ...sample,
      message: `${title ?? 'event'} (${suppressed} similar events suppressed)`,
      timestamp: clock.now(),
      summary: { suppressed, sinceMs, windowMs },
    };
  };
  const sendSummaries = (all: boolean) => {
    if (!throttle) return;
    for (const s of throttle.takeSummaries(all)) {
      const raw = summaryOf(s.key, s.suppressed, s.sinceMs);
      if (raw) outbox.push(raw);
    }
  };
  const armSweep = () => {
    if (sweep !== undefined || closed) return;
    sweep = setTimeout(() => {
      sweep = undefined;
      sendSummaries(false);
      if (throttle?.pending) armSweep();
    }, windowMs);
    sweep.unref();
  };

  const submit = (raw: Raw): boolean => {
    if (closed) return false;
    if (throttle) {
      const key = raw.fingerprint.join('\u0000');
      const d = throttle.hit(key);
      if (!d.send) {
        recordThrottled();
        if (d.first) {
          samples.set(key, raw);
          armSweep();
          if (events.has('throttled')) {
            events.emit('throttled', { fingerprint: raw.fingerprint, max: throttleMax, windowMs });
          }
        }
        return false;
      }
      if (d.summary) {
        const summary = summaryOf(key, d.summary.suppressed, d.summary.sinceMs);
        if (summary) outbox.push(summary);
      }
    }
    return outbox.push(raw);
  };

  return {
    on: (event, listener) => events.on(event, listener),
    once: (event, listener) => events.once(event, listener),
    get queued() {
      return outbox.size;
    },
    destination,
    captureException(err, context) {
      try {
        if (sampleRate < 1 && Math.random() >= sampleRate) return false;
        return submit({
          error: err,
          context,
          fingerprint: context?.fingerprint ?? errorFingerprint(err),
          defaultFingerprint: context?.fingerprint === undefined,
          level: context?.level ?? 'error',
          timestamp: clock.now(),
        });
      } catch {
        return false;
      }
    },
    alert(kind, details) {
      try {
        const message = details?.message;
        return submit({
          kind,
          message: message ?? kind,
          error: details?.error,
          context: details,
          fingerprint: details?.fingerprint ?? ['alert', kind, message ?? ''],
          level: details?.level ?? KIND_LEVEL[kind as KnownAlertKind] ?? 'error',
          timestamp: clock.now(),
        });
      } catch {
        return false;
      }
    },
    addBreadcrumb(breadcrumb) {
      if (maxBreadcrumbs === 0) return;
      try {
        crumbs.push(scrub({ timestamp: clock.now() / 1000, ...breadcrumb }));
        if (crumbs.length > maxBreadcrumbs) crumbs.shift();
      } catch {}
    },
    async flush(timeout, flushOptions) {
      const ms = check.duration(timeout, 'timeout', '5s', { min: 0 });
      sendSummaries(true);
      await outbox.drained(ms, flushOptions?.signal);
    },
    async close() {
      if (closed) return;
      closed = true;
      if (sweep !== undefined) clearTimeout(sweep);
      sweep = undefined;
      outbox.close();
      events.clear();
      await sink.close();
    },
  };
}

/**
 * {@link createAlerts} configured from the environment, `options` taking precedence. Reads:
 * - `SENTRY_DSN`: the DSN (empty or unset: JSON lines on stderr);
 * - `SENTRY_ENVIRONMENT`: the `environment` of every event;
 * - `SENTRY_RELEASE`: the `release` of every event.
 */
export function createAlertsFromEnv(
  options: AlertsOptions = {},
  env: Record<string, string | undefined> = process.env,
): Alerts {
  const pick = (v: string | undefined) => (v === undefined || v === '' ? undefined : v);
  return createAlerts({
    dsn: pick(env.SENTRY_DSN),
    environment: pick(env.SENTRY_ENVIRONMENT),
    release: pick(env.SENTRY_RELEASE),
    ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
  });
}
