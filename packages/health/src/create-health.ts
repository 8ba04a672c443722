import { abortable, abortReason, Emitter, type Events } from '@org/core';
import { invalidOption } from './errors.js';
import type { HealthEvents, LifecycleState } from './events.js';
import { createHttp, type HealthHttp, type ReportCallback } from './http.js';
import { type Closer, createLifecycle } from './lifecycle.js';
import { type HealthOptions, type ResolvedOptions, resolveOptions } from './resolve-options.js';
import type { ResolvedCheck } from './run-check.js';
import { runChecks } from './run-report.js';
import { recordReport, telemetry, traceReport } from './telemetry.js';
import type { CheckReport, HealthReport, HealthStatus } from './types.js';

export type { HealthOptions } from './resolve-options.js';

/** Options of one report call. */
export interface RunOptions {
  /**
   * Stops waiting for the report: the call rejects with core's `AbortedError` (the shared run
   * goes on for other callers).
   */
  signal?: AbortSignal | undefined;
}

/** A health checker: reports, HTTP adapters, probes and graceful shutdown. */
export interface Health extends HealthHttp, Events<HealthEvents> {
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
  /**
   * Registers a closer run after draining (database pools, queues), in registration order; its
   * signal aborts at `closerTimeout`.
   */
  onShutdown(fn: Closer): () => void;
  /**
   * Graceful shutdown: fail readiness, wait `shutdownDelay`, drain servers, run closers.
   * Resolves true if clean. Runs once; `signal` stops only this caller's wait.
   */
  shutdown(options?: RunOptions): Promise<boolean>;
  /**
   * Releases what the instance holds: the signal handlers of `handleSignals`, and what its
   * checks hold (`HealthCheck.close`: a sampler's timer, a Redis client a check created from a
   * URL). Leaves the app's own clients and servers open; use `shutdown()` for those. Idempotent.
   */
  close(): Promise<void>;
}

function overall(checks: Record<string, CheckReport>): HealthStatus {
  let status: HealthStatus = 'healthy';
  for (const name in checks) {
    const c = checks[name] as CheckReport;
    if (c.status === 'ok') continue;
    if (c.critical && c.status !== 'warn') return 'unhealthy';
    status = 'degraded';
  }
  return status;
}

type Kind = 'quick' | 'full';

function listenerOf<L>(listener: L): L {
  if (typeof listener !== 'function')
    throw invalidOption('on(event, listener): listener must be a function');
  return listener;
}

/** Emits `checkChange` and `statusChange` when a fresh report differs from the previous one. */
function changeAnnouncer(events: Emitter<HealthEvents>) {
  const lastCheck = new Map<string, CheckReport['status']>();
  const lastStatus = new Map<Kind, HealthStatus>();
  return (kind: Kind, report: HealthReport): void => {
    for (const name in report.checks) {
      const c = report.checks[name] as CheckReport;
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
  };
}

/** `new Date(ms).toISOString()`, reused while the millisecond is the same. */
function isoClock(clock: ResolvedOptions['clock']): () => string {
  let lastMs = Number.NaN;
  let lastIso = '';
  return () => {
    const ms = clock.now();
    if (ms !== lastMs) {
      lastIso = new Date(ms).toISOString();
      lastMs = ms;
    }
    return lastIso;
  };
}

/** Runs reports of one kind: each check cut at its timeout, the whole at the deadline. */
function reportRunner(
  o: ResolvedOptions,
  options: HealthOptions,
  events: Emitter<HealthEvents>,
): (kind: Kind, names: readonly string[], done: (report: HealthReport) => void) => void {
  const announce = changeAnnouncer(events);
  const checkedAtNow = isoClock(o.clock);
  const checksOf = new Map<readonly string[], ResolvedCheck[]>();
  const complete = (
    kind: Kind,
    names: readonly string[],
    checkedAt: string,
    started: number,
    results: CheckReport[],
    done: (report: HealthReport) => void,
    endSpan: ((report: HealthReport) => void) | undefined,
  ) => {
    const byName: Record<string, CheckReport> = {};
    for (let i = 0; i < names.length; i++) byName[names[i] as string] = results[i] as CheckReport;
    // Field by field (no spreads: this runs for every uncached probe), in the JSON's key order.
    const report = { status: overall(byName) } as HealthReport;
    if (options.version !== undefined) report.version = options.version;
    if (options.serviceId !== undefined) report.serviceId = options.serviceId;
    report.checkedAt = checkedAt;
    report.durationMs = Math.round((performance.now() - started) * 10) / 10;
    report.checks = byName;
    endSpan?.(report);
    recordReport(kind, report);
    // No payload is built when nobody listens (the common case on the probe path).
    if (events.has('report')) events.emit('report', { kind, report });
    announce(kind, report);
    done(report);
  };
  return (kind, names, done) => {
    const checkedAt = checkedAtNow();
    const started = performance.now();
    let checks = checksOf.get(names);
    if (!checks) {
      checks = names.map((n) => o.checks.get(n) as ResolvedCheck);
      checksOf.set(names, checks);
    }
    if (!telemetry.tracing()) {
      runChecks(
        checks,
        o.deadlineMs,
        o.secrets,
        (results) => complete(kind, names, checkedAt, started, results, done, undefined),
        false,
      );
      return;
    }
    const ran = checks;
    traceReport(kind, (end) =>
      runChecks(
        ran,
        o.deadlineMs,
        o.secrets,
        (results) => complete(kind, names, checkedAt, started, results, done, end),
        true,
      ),
    );
  };
}

/** A report of one kind reused for `cacheMs`; concurrent callers share one in-flight run. */
interface CachedReport {
  get(opts?: RunOptions): Promise<HealthReport>;
  /** The cached report while it is fresh (what `get` would resolve with at once). */
  fresh(): HealthReport | undefined;
  /**
   * `get` without a promise, for the probe handler: `cb` is called once, at once with a fresh
   * report, else when the shared run ends (or with the error a run threw as it started).
   */
  subscribe(cb: ReportCallback): void;
}

function cachedReport(
  o: ResolvedOptions,
  run: (done: (report: HealthReport) => void) => void,
): CachedReport {
  let last: { at: number; report: HealthReport } | undefined;
  // The run in flight and who waits for it: callbacks, not promises, so that an uncached probe
  // costs no promise of its own (a run may end synchronously, every check synchronous: the run
  // is told apart by its token).
  let inflight: { waiters: ReportCallback[] } | undefined;
  // A clock read costs more than the rest of a probe's bookkeeping: none when nothing is cached.
  const caching = o.cacheMs > 0;
  const fresh = () => {
    if (!last) return undefined;
    // A clock that went backwards expires the cache rather than freezing it.
    const age = o.clock.now() - last.at;
    return age >= 0 && age < o.cacheMs ? last.report : undefined;
  };
  const subscribe = (cb: ReportCallback): void => {
    const cached = fresh();
    if (cached) {
      cb(undefined, cached);
      return;
    }
    if (inflight) {
      inflight.waiters.push(cb);
      return;
    }
    const token = { waiters: [cb] };
    inflight = token;
    const settle = (error: unknown, report?: HealthReport) => {
      if (inflight === token) inflight = undefined;
      for (const waiter of token.waiters) waiter(error, report);
    };
    try {
      run((report) => {
        if (caching) last = { at: o.clock.now(), report };
        settle(undefined, report);
      });
    } catch (error) {
      settle(error);
    }
  };
  return {
    fresh,
    subscribe,
    get(opts = {}) {
      if (opts.signal?.aborted) {
        return Promise.reject(abortReason(opts.signal, 'The health report'));
      }
      const cached = fresh();
      if (cached) return Promise.resolve(cached);
      const promise = new Promise<HealthReport>((resolve, reject) =>
        subscribe((error, report) => (report ? resolve(report) : reject(error))),
      );
      return opts.signal ? abortable(promise, opts.signal, 'The health report') : promise;
    },
  };
}

/**
 * Creates a health checker. `quick()` runs the checks named in `quick` (for `GET /health`);
 * `full()` runs all of them concurrently (`GET /health/full`); each check is cut at its own
 * timeout and the whole report at `deadline`; reports are cached for `cache`. Throws
 * `ERR_HEALTH_INVALID_OPTION` naming a bad option.
 */
export function createHealth(options: HealthOptions): Health {
  const o = resolveOptions(options);
  const events = new Emitter<HealthEvents>('health');
  const lifecycle = createLifecycle({ ...options, ready: o.ready }, events);
  const run = reportRunner(o, options, events);
  const quickCache = cachedReport(o, (done) => run('quick', o.quick, done));
  const allNames = [...o.checks.keys()];
  const fullCache = cachedReport(o, (done) => run('full', allNames, done));
  const quick = (opts?: RunOptions) => quickCache.get(opts);
  const full = (opts?: RunOptions) => fullCache.get(opts);
  const http = createHttp({
    quick,
    full,
    fresh: (kind) => (kind === 'full' ? fullCache : quickCache).fresh(),
    subscribe: (kind, cb) => (kind === 'full' ? fullCache : quickCache).subscribe(cb),
    lifecycle,
    ietfExtra: {
      ...(options.releaseId === undefined ? {} : { releaseId: options.releaseId }),
      ...(options.description === undefined ? {} : { description: options.description }),
    },
  });
  let closed: Promise<void> | undefined;

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
    on: (event, listener) => events.on(event, listenerOf(listener)),
    once: (event, listener) => events.once(event, listenerOf(listener)),
    close() {
      closed ??= (async () => {
        lifecycle.releaseSignals();
        await Promise.allSettled(o.closers.map(async (fn) => fn()));
      })();
      return closed;
    },
  };
}
