import { type Clock, type Duration, systemClock } from '@org/core';
import { check, invalidOption, refuseRenamed } from './errors.js';
import type { ShutdownOptions } from './lifecycle.js';
import { type ResolvedCheck, takesSignal } from './run-check.js';
import type { CheckFn, HealthCheck } from './types.js';

/** Options of `createHealth`. */
export interface HealthOptions extends ShutdownOptions {
  /** Every check by name: a `HealthCheck` (`{ check, timeout?, critical? }`) or a bare function. */
  checks: Record<string, HealthCheck | CheckFn>;
  /**
   * Names of the checks run by `quick()`, `GET /health` and `/readyz`, the load balancer's
   * probe: keep it to what must work for this instance to take traffic (usually the database).
   * `[]` runs none (the probe then only says the process answers).
   * @default the critical checks (every check not marked `critical: false`)
   */
  quick?: readonly string[] | undefined;
  /**
   * How long a report is reused, so that a storm of probes does not become a storm of queries:
   * milliseconds, or a string with a unit (`'1s'`). Concurrent callers always share one
   * in-flight run. `0` caches nothing. @default '1s'
   */
  cache?: Duration | undefined;
  /**
   * The deadline of a whole report: checks still running then are cut and reported as
   * `timeout`. Keep it below the probe timeout of your load balancer (Kubernetes' default
   * `timeoutSeconds` is 1). @default 900 (ms)
   */
  deadline?: Duration | undefined;
  /** Default per-check timeout, for checks that set none. @default 800 (ms) */
  timeout?: Duration | undefined;
  /** The service's public version (IETF `version`). */
  version?: string | undefined;
  /** The release (IETF `releaseId`). */
  releaseId?: string | undefined;
  /** A unique id of the service (IETF `serviceId`). */
  serviceId?: string | undefined;
  /** A human-friendly description of the service (IETF `description`). */
  description?: string | undefined;
  /** Literal secrets (passwords, tokens) to scrub from reasons on top of the built-in patterns. */
  secrets?: readonly string[] | undefined;
  /**
   * Whether the service counts as started and ready at once; with `false`, `/startupz` and
   * `/readyz` answer 503 until `markReady()`. @default true
   */
  ready?: boolean | undefined;
  /** The source of time for `checkedAt` and the cache. @default systemClock (`Date.now()`) */
  clock?: Clock | undefined;
}

/** `HealthOptions` parsed once, at construction. */
export interface ResolvedOptions {
  readonly checks: ReadonlyMap<string, ResolvedCheck>;
  /** Checks that hold something to release (`HealthCheck.close`). */
  readonly closers: readonly (() => Promise<void> | void)[];
  readonly quick: readonly string[];
  readonly cacheMs: number;
  readonly deadlineMs: number;
  readonly clock: Clock;
  readonly secrets: readonly string[];
  readonly ready: boolean;
}

function stringList(value: unknown, name: string): readonly string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw invalidOption(`\`${name}\` must be an array of strings`);
  }
  return value as string[];
}

function resolveCheck(name: string, c: unknown, timeoutMs: number): ResolvedCheck {
  if (name === 'status' || name.includes(':') || name.length === 0) {
    throw invalidOption(
      `check name "${name}" is not allowed: use a non-empty name without ":" other than "status"`,
    );
  }
  const hc = (typeof c === 'function' ? { check: c } : c) as HealthCheck | undefined;
  if (typeof hc !== 'object' || hc === null || typeof hc.check !== 'function') {
    throw invalidOption(
      `check "${name}" has no check function: pass a function or { check, timeout?, critical? }`,
    );
  }
  return {
    name,
    check: hc.check,
    timeoutMs: check.duration(hc.timeout, `checks.${name}.timeout`, timeoutMs, { min: 1 }),
    critical: check.boolean(hc.critical, `checks.${name}.critical`, true),
    componentType: check.string(hc.componentType, `checks.${name}.componentType`),
    componentId: check.string(hc.componentId, `checks.${name}.componentId`),
    takesSignal: takesSignal(hc.check),
  };
}

/** Validates and parses `createHealth`'s options; throws `ERR_HEALTH_INVALID_OPTION`. */
export function resolveOptions(options: HealthOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null || options.checks === undefined) {
    throw invalidOption('createHealth(options): options must be an object with `checks`');
  }
  const o = check.object(options, 'options');
  refuseRenamed(o, {
    cacheMs: 'cache',
    deadlineMs: 'deadline',
    beforeShutdownMs: 'shutdownDelay',
    drainTimeoutMs: 'drainTimeout',
    closerTimeoutMs: 'closerTimeout',
  });
  const timeoutMs = check.duration(o.timeout, 'timeout', 800, { min: 1 });
  const rawChecks = check.object(o.checks, 'checks');
  const checks = new Map<string, ResolvedCheck>();
  const closers: (() => Promise<void> | void)[] = [];
  for (const [name, c] of Object.entries(rawChecks)) {
    checks.set(name, resolveCheck(name, c, timeoutMs));
    const close = typeof c === 'object' && c !== null ? c.close : undefined;
    if (typeof close === 'function') closers.push(() => close.call(c));
  }
  // A critical check counts for readiness unless the app names the quick checks itself.
  const quick =
    o.quick === undefined
      ? [...checks].filter(([, c]) => c.critical).map(([name]) => name)
      : stringList(o.quick, 'quick');
  for (const name of quick) {
    if (!checks.has(name)) {
      throw invalidOption(
        `quick names "${name}", which is not in checks: add it to checks or remove it from quick`,
      );
    }
  }
  const clock = o.clock ?? systemClock;
  if (typeof clock?.now !== 'function') throw invalidOption('`clock` must be { now(): number }');
  return {
    checks,
    closers,
    quick,
    cacheMs: check.duration(o.cache, 'cache', '1s'),
    deadlineMs: check.duration(o.deadline, 'deadline', 900, { min: 1 }),
    clock,
    secrets: stringList(o.secrets, 'secrets'),
    ready: check.boolean(o.ready, 'ready', true),
  };
}
