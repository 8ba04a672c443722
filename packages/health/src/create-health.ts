import { HealthError } from './errors.js';
import { createEmitter, type HealthEvents, type LifecycleState, type Listener } from './events.js';
import { createHttp, type HealthHttp } from './http.js';
import { createLifecycle, type ShutdownOptions } from './lifecycle.js';
import { createDeadline, type ResolvedCheck, runCheck } from './run-check.js';
import type {
  CheckFn,
  CheckReport,
  Clock,
  HealthCheck,
  HealthReport,
  HealthStatus,
} from './types.js';

/** Options of `createHealth`. */
export interface HealthOptions extends ShutdownOptions {
  /** Every check by name: a `HealthCheck` (`{ check, timeout?, critical? }`) or a bare function. */
  checks: Record<string, HealthCheck | CheckFn>;
  /**
   * Names of the checks run by `quick()` and `GET /health`, the load balancer's probe: keep it to
   * what must work for this instance to take traffic (usually the database). @default []
   */
  quick?: readonly string[];
  /**
   * How long a report is reused, in ms, so that a storm of probes does not become a storm of
   * queries; concurrent callers always share one in-flight run. `0` caches nothing. @default 1000
   */
  cacheMs?: number;
  /**
   * The deadline of a whole report, in ms: checks still running then are cut and reported as
   * `timeout`. Keep it below the probe timeout of your load balancer (Kubernetes' default
   * `timeoutSeconds` is 1). @default 900
   */
  deadlineMs?: number;
  /** Default per-check timeout, in ms, for checks that set none. @default 800 */
  timeout?: number;
  /** The service's public version (IETF `version`). */
  version?: string;
  /** The release (IETF `releaseId`). */
  releaseId?: string;
  /** A unique id of the service (IETF `serviceId`). */
  serviceId?: string;
  /** A human-friendly description of the service (IETF `description`). */
  description?: string;
  /** Literal secrets (passwords, tokens) to scrub from reasons on top of the built-in patterns. */
  secrets?: readonly string[];
  /**
   * Whether the service counts as started and ready at once; with `false`, `/startupz` and
   * `/readyz` answer 503 until `markReady()`. @default true
   */
  ready?: boolean;
  /** The source of time for caching. @default Date */
  clock?: Clock;
}

/** Options of one report call. */
export interface RunOptions {
  /** Stops waiting for the report (the shared run goes on for other callers). */
  signal?: AbortSignal;
}

/** A health checker: reports, HTTP adapters, probes and graceful shutdown. */
export interface Health extends HealthHttp {
  /** Runs (or reuses) the `quick` checks. Never rejects for a failing check. */
  quick(options?: RunOptions): Promise<HealthReport>;
  /** Runs (or reuses) every check, concurrently. Never rejects for a failing check. */
  full(options?: RunOptions): Promise<HealthReport>;
  /** `starting`, `ready`, `draining` (readiness fails) or `stopped`. */
  readonly state: LifecycleState;
  /** Marks startup done (only needed with `ready: false`). */
  markReady(): void;
  /** Lets graceful shutdown close this server (and drain its in-flight requests). */
  attach(server: import('node:http').Server): () => void;
  /** Registers a closer run after draining (database pools, queues), in registration order. */
  onShutdown(fn: () => unknown): () => void;
  /** Fail readiness, wait `beforeShutdownMs`, drain servers, run closers. Resolves true if clean. */
  shutdown(): Promise<boolean>;
  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends keyof HealthEvents>(event: E, listener: Listener<E>): () => void;
  /** Removes signal handlers installed by `handleSignals`. */
  dispose(): void;
}

function checkDuration(name: string, value: number | undefined, min: number): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new HealthError(
      'ERR_HEALTH_INVALID_OPTIONS',
      `${name} must be a finite number of milliseconds ≥ ${min}, got ${String(value)}`,
    );
  }
}

function resolveChecks(options: HealthOptions): Map<string, ResolvedCheck> {
  checkDuration('cacheMs', options.cacheMs, 0);
  checkDuration('deadlineMs', options.deadlineMs, 1);
  checkDuration('timeout', options.timeout, 1);
  checkDuration('beforeShutdownMs', options.beforeShutdownMs, 0);
  checkDuration('drainTimeoutMs', options.drainTimeoutMs, 0);
  checkDuration('closerTimeoutMs', options.closerTimeoutMs, 1);
  const out = new Map<string, ResolvedCheck>();
  for (const [name, c] of Object.entries(options.checks)) {
    if (name === 'status' || name.includes(':') || name.length === 0) {
      throw new HealthError(
        'ERR_HEALTH_INVALID_OPTIONS',
        `check name "${name}" is not allowed: use a non-empty name without ":" other than "status"`,
      );
    }
    const hc: HealthCheck = typeof c === 'function' ? { check: c } : c;
    if (typeof hc?.check !== 'function') {
      throw new HealthError(
        'ERR_HEALTH_INVALID_OPTIONS',
        `check "${name}" has no check function: pass a function or { check, timeout?, critical? }`,
      );
    }
    checkDuration(`checks.${name}.timeout`, hc.timeout, 1);
    out.set(name, {
      ...hc,
      timeout: hc.timeout ?? options.timeout ?? 800,
      critical: hc.critical ?? true,
    });
  }
  for (const name of options.quick ?? []) {
    if (!out.has(name)) {
      throw new HealthError(
        'ERR_HEALTH_INVALID_OPTIONS',
        `quick names "${name}", which is not in checks: add it to checks or remove it from quick`,
      );
    }
  }
  return out;
}

function overall(checks: Record<string, CheckReport>): HealthStatus {
  let status: HealthStatus = 'healthy';
  for (const c of Object.values(checks)) {
    if (c.status === 'ok') continue;
    if (c.critical && c.status !== 'warn') return 'unhealthy';
    status = 'degraded';
  }
  return status;
}

function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * Creates a health checker. `quick()` runs the checks named in `quick` (for `GET /health`);
 * `full()` runs all of them concurrently (`GET /health/full`); each check is cut at its own
 * timeout and the whole report at `deadlineMs`; reports are cached for `cacheMs`.
 */
export function createHealth(options: HealthOptions): Health {
  const checks = resolveChecks(options);
  const quickNames = [...(options.quick ?? [])];
  const cacheMs = options.cacheMs ?? 1_000;
  const deadlineMs = options.deadlineMs ?? 900;
  const clock = options.clock ?? Date;
  const secrets = options.secrets ?? [];
  const events = createEmitter();
  const lifecycle = createLifecycle({ ...options, ready: options.ready ?? true }, events);

  const lastCheck = new Map<string, CheckReport['status']>();
  const lastStatus = new Map<'quick' | 'full', HealthStatus>();
  function announce(kind: 'quick' | 'full', report: HealthReport): void {
    for (const [name, c] of Object.entries(report.checks)) {
      const from = lastCheck.get(name);
      if (from === c.status) continue;
      lastCheck.set(name, c.status);
      events.emit('checkChange', {
        check: name,
        from,
        to: c.status,
        ...(c.reason === undefined ? {} : { reason: c.reason }),
      });
    }
    const from = lastStatus.get(kind);
    if (from !== report.status) {
      lastStatus.set(kind, report.status);
      events.emit('statusChange', { kind, from, to: report.status });
    }
  }

  async function run(kind: 'quick' | 'full', names: readonly string[]): Promise<HealthReport> {
    const checkedAt = new Date(clock.now()).toISOString();
    const started = performance.now();
    const deadline = createDeadline(deadlineMs);
    try {
      const results = await Promise.all(
        names.map((n) => runCheck(checks.get(n)!, deadline, secrets)),
      );
      const byName: Record<string, CheckReport> = {};
      names.forEach((n, i) => {
        byName[n] = results[i]!;
      });
      const report: HealthReport = {
        status: overall(byName),
        ...(options.version === undefined ? {} : { version: options.version }),
        ...(options.serviceId === undefined ? {} : { serviceId: options.serviceId }),
        checkedAt,
        durationMs: Math.round((performance.now() - started) * 10) / 10,
        checks: byName,
      };
      events.emit('report', { kind, report });
      announce(kind, report);
      return report;
    } finally {
      deadline.clear();
    }
  }

  function cached(kind: 'quick' | 'full', names: readonly string[]) {
    let last: { at: number; report: HealthReport } | undefined;
    let inflight: Promise<HealthReport> | undefined;
    return (opts: RunOptions = {}): Promise<HealthReport> => {
      // A clock that went backwards expires the cache rather than freezing it.
      const age = last ? clock.now() - last.at : -1;
      if (last && age >= 0 && age < cacheMs) return Promise.resolve(last.report);
      inflight ??= run(kind, names)
        .then((report) => {
          last = { at: clock.now(), report };
          return report;
        })
        .finally(() => {
          inflight = undefined;
        });
      return abortable(inflight, opts.signal);
    };
  }

  const quick = cached('quick', quickNames);
  const full = cached('full', [...checks.keys()]);
  const http = createHttp({
    quick,
    full,
    lifecycle,
    ietfExtra: {
      ...(options.releaseId === undefined ? {} : { releaseId: options.releaseId }),
      ...(options.description === undefined ? {} : { description: options.description }),
    },
  });

  return {
    ...http,
    quick,
    full,
    get state() {
      return lifecycle.state;
    },
    markReady: lifecycle.markReady,
    attach: lifecycle.attach,
    onShutdown: lifecycle.onShutdown,
    shutdown: lifecycle.shutdown,
    dispose: lifecycle.dispose,
    on: events.on,
  };
}
