import type { Duration } from '@org/core';

/** What one check can conclude: `ok`, `warn` (degrades the report) or `fail`. */
export type CheckVerdict = 'ok' | 'warn' | 'fail';

/** A check's status in a report: its verdict, or `timeout` when it was cut before it settled. */
export type CheckStatus = CheckVerdict | 'timeout';

/** The overall status of a report. */
export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy';

/** What a check may return; returning nothing means `ok`, throwing means `fail`. */
export interface CheckOutcome {
  /** @default 'ok' */
  status?: CheckVerdict | undefined;
  /** Why, in a few words; reduced to a safe reason (no secrets) before it is reported. */
  reason?: string | undefined;
  /** The IETF `observedValue` (e.g. 42 for `utilization` in `%`); latency is used when absent. */
  observedValue?: number | string | boolean | undefined;
  /** The IETF `observedUnit` of `observedValue` (`ms`, `%`, `bytes` …). */
  observedUnit?: string | undefined;
  /** The IETF measurement name, the part after `:` in `name:measurement`. @default 'responseTime' */
  measurement?: string | undefined;
  /** Extra, non-secret facts shown in the full report (e.g. the names of open breakers). */
  details?: Record<string, unknown> | undefined;
}

/**
 * The function that does the checking; it must stop when `signal` aborts. Throwing (or
 * rejecting) means `fail`. Returning a `CheckOutcome` sets the verdict and observed value;
 * anything else returned (a query result, `undefined`) means `ok`, so
 * `() => pool.query('SELECT 1')` is a check.
 */
export type CheckFn = (signal: AbortSignal) => unknown;

/**
 * The one extension point: a check of one dependency. Ready-made checks (`pgCheck`,
 * `redisCheck`, `httpCheck` …) return this shape, and so may the user's own.
 */
export interface HealthCheck {
  /**
   * Runs the check; receives a signal that aborts at the check's timeout or the report deadline
   * (its reason is core's `TimeoutError`).
   */
  check: CheckFn;
  /**
   * How long the check may take before it is cut and reported as `timeout`: milliseconds, or a
   * string with a unit (`'500ms'`, `'2s'`). @default 800 (createHealth's `timeout`)
   */
  timeout?: Duration | undefined;
  /**
   * Whether a failure (or timeout) makes the whole report `unhealthy`. A failing check that is
   * not critical makes it `degraded`. @default true
   */
  critical?: boolean | undefined;
  /** The IETF `componentType` (`datastore`, `component`, `system` or a URI). */
  componentType?: string | undefined;
  /** The IETF `componentId`: which instance of the component (e.g. a replica's id). */
  componentId?: string | undefined;
  /**
   * Releases what the check holds (a sampler's timer, a Redis client it created from a URL);
   * called by the Health's `close()`. Never closes a client the app passed in.
   */
  close?(): Promise<void> | void;
}

/** One check's part of a report. */
export interface CheckReport {
  status: CheckStatus;
  critical: boolean;
  /** How long the check ran, in ms (rounded to 0.1 ms). */
  latencyMs: number;
  /** A safe reason when the status is not `ok`: no URLs with credentials, passwords or tokens. */
  reason?: string;
  measurement: string;
  observedValue: number | string | boolean;
  observedUnit?: string;
  componentType?: string;
  componentId?: string;
  details?: Record<string, unknown>;
}

/** A health report: the overall status and each check's part. */
export interface HealthReport {
  status: HealthStatus;
  /** When the checks started, ISO 8601. */
  checkedAt: string;
  /** How long the whole report took, in ms. */
  durationMs: number;
  version?: string;
  serviceId?: string;
  checks: Record<string, CheckReport>;
}

/** The seed's simple form: `{"status": "healthy", "database": "ok"}`. */
export type SimpleReport = { status: HealthStatus } & Record<string, string>;

/** One entry of an IETF draft `checks` array. */
export interface IetfCheck {
  componentId?: string;
  componentType?: string;
  observedValue?: number | string | boolean;
  observedUnit?: string;
  status: 'pass' | 'warn' | 'fail';
  time: string;
  output?: string;
  affectedEndpoints?: string[];
}

/** The IETF draft "Health Check Response Format for HTTP APIs" (`application/health+json`). */
export interface IetfReport {
  status: 'pass' | 'warn' | 'fail';
  version?: string;
  releaseId?: string;
  serviceId?: string;
  description?: string;
  output?: string;
  checks: Record<string, IetfCheck[]>;
}
