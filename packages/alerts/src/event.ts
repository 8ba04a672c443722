import { describeError } from '@org/core';
import type { Breadcrumb, Event, SeverityLevel, StackParser } from '@sentry/core';
import { exceptionFromError, uuid4 } from '@sentry/core';
import { scrub, scrubString } from './scrub.js';

/** Severity of an alert, as Sentry's levels. */
export type Severity = SeverityLevel;

/** Tag values: strings, numbers and booleans (sent as strings). */
export type Tags = Record<string, string | number | boolean>;

/** The kinds of alert with a default severity; any other string is an alert kind of the app's. */
export type KnownAlertKind =
  | 'circuit_breaker'
  | 'payment_failure'
  | 'security_event'
  | 'external_service_error';

/** An alert kind: one of {@link KnownAlertKind} or the app's own. */
export type AlertKind = KnownAlertKind | (string & {});

/** What may go with a captured error or an alert. Every field is scrubbed before it leaves. */
export interface CaptureContext {
  /** @default 'error' for exceptions; per kind for alerts */
  level?: Severity | undefined;
  /** Searchable tags (`service`, `tier` …). */
  tags?: Tags | undefined;
  /**
   * Groups events in Sentry and keys the throttle. @default the error's name and message with
   * numbers, hex and ids blanked out (alerts: the kind and message)
   */
  fingerprint?: readonly string[] | undefined;
  /** Breadcrumbs for this event only, after the instance's own. */
  breadcrumbs?: readonly Breadcrumb[] | undefined;
  /** Anything else worth reading, as `extra`. */
  data?: Record<string, unknown> | undefined;
}

/** Details of an {@link AlertKind alert}: a context plus its message and error. */
export interface AlertDetails extends CaptureContext {
  /** One line that says what happened. @default the kind */
  message?: string | undefined;
  /** The error behind the alert, sent as its exception (with frames). */
  error?: unknown;
}

/** Default severity per known kind. */
export const KIND_LEVEL: Record<KnownAlertKind, Severity> = {
  circuit_breaker: 'error',
  payment_failure: 'error',
  security_event: 'warning',
  external_service_error: 'error',
};

/** One captured event before it is built: kept small, built off the caller's path. */
export interface Raw {
  kind?: string;
  message?: string;
  error?: unknown;
  context: CaptureContext | undefined;
  fingerprint: readonly string[];
  /** The fingerprint is the default one of an error: rebuilt from the scrubbed message. */
  defaultFingerprint?: boolean;
  level: Severity;
  timestamp: number;
  summary?: { suppressed: number; sinceMs: number; windowMs: number };
  dropped?: number;
}

const VOLATILE =
  /\b(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|0x[0-9a-f]+|\d+)\b/gi;

/**
 * The default fingerprint of a thrown value, as the throttle keys it: its name and the first 200
 * characters of its message without numbers and ids. (The event's own is rebuilt from the
 * scrubbed message.)
 */
export function errorFingerprint(err: unknown): string[] {
  if (err instanceof Error) {
    return [err.name, err.message.slice(0, 200).replace(VOLATILE, '?')];
  }
  return [
    typeof err,
    String(typeof err === 'object' ? '' : err)
      .slice(0, 200)
      .replace(VOLATILE, '?'),
  ];
}

/** Everything an event shares: the instance's settings. */
export interface EventDefaults {
  environment?: string | undefined;
  release?: string | undefined;
  tags: Tags;
  breadcrumbs: () => Breadcrumb[];
  stackParser: StackParser;
}

/** Builds the Sentry event of `raw`, scrubbed. */
export function buildEvent(raw: Raw, d: EventDefaults): Event {
  const ctx = raw.context ?? {};
  const event: Event = {
    event_id: uuid4(),
    timestamp: raw.timestamp / 1000,
    platform: 'node',
    level: raw.level,
    fingerprint: [...raw.fingerprint],
    tags: { ...d.tags, ...ctx.tags, ...(raw.kind === undefined ? {} : { 'alert.kind': raw.kind }) },
  };
  if (d.environment !== undefined) event.environment = d.environment;
  if (d.release !== undefined) event.release = d.release;
  const err = raw.error;
  if (err instanceof Error) {
    event.exception = { values: [exceptionFromError(d.stackParser, err)] };
  } else if (err !== undefined) {
    // A thrown non-Error has no stack: its type and its text are all there is.
    event.exception = {
      values: [{ type: err === null ? 'null' : typeof err, value: describeError(err) }],
    };
  }
  if (raw.message !== undefined) event.message = raw.message;
  if (event.exception === undefined && event.message === undefined)
    event.message = raw.kind ?? 'alert';
  const extra: Record<string, unknown> = { ...ctx.data };
  if (err !== undefined && !(err instanceof Error)) extra.thrown = err;
  if (raw.summary) {
    extra.suppressed = raw.summary.suppressed;
    extra.suppressedSinceMs = raw.summary.sinceMs;
    extra.windowMs = raw.summary.windowMs;
    event.tags!['alert.summary'] = 'true';
  }
  if (raw.dropped !== undefined) extra.droppedBefore = raw.dropped;
  if (Object.keys(extra).length > 0) event.extra = extra;
  const crumbs = [...d.breadcrumbs(), ...(ctx.breadcrumbs ?? [])];
  if (crumbs.length > 0) event.breadcrumbs = crumbs;
  const safe = scrub(event);
  const ex0 = safe.exception?.values?.[0];
  if (raw.defaultFingerprint && ex0 !== undefined) {
    safe.fingerprint = [ex0.type ?? 'Error', (ex0.value ?? '').replace(VOLATILE, '?')];
  }
  // Cut after scrubbing: a cut before it could split a credential from what marks it.
  safe.fingerprint = safe.fingerprint?.map((f) => (f.length > 200 ? f.slice(0, 200) : f));
  if (safe.exception?.values) {
    for (const v of safe.exception.values)
      if (typeof v.value === 'string') v.value = scrubString(v.value);
  }
  return safe;
}
