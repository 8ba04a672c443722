import { abortable, abortReason, Emitter, type Events, TimeoutError } from '@org/core';
import { Attempt } from './attempt.js';
import { attemptRunner, type Outcomes } from './attempt-runner.js';
import { type BreakerOptions, defaultIsFailure, resolveBreakerOptions } from './breaker-options.js';
import { Bulkhead } from './bulkhead.js';
import { type BreakerSnapshot, type BreakerState, CircuitState } from './circuit-state.js';
import {
  BreakerOpenError,
  BreakerShutdownError,
  BulkheadRejectedError,
  check,
  invalidOption,
  isBreakerOpenError,
  isBulkheadRejectedError,
  isRetryExhaustedError,
} from './errors.js';
import type { BreakerEvents } from './events.js';
import { type BreakerRegistry, breakers, type RegisteredBreaker } from './registry.js';
import { noSignal, runRetry } from './retry-loop.js';
import type { AttemptContext, ResolvedRetry } from './retry-options.js';
import { RollingWindow } from './rolling-window.js';
import type { SharedStateEvent } from './shared-state.js';
import { breakerTelemetry, observeState } from './telemetry.js';

/** What `fn` receives first on every call. */
export type CallContext = AttemptContext;

/** Counts over the rolling window, plus the breaker's own state. Times are in milliseconds. */
export interface BreakerStats {
  name: string;
  state: BreakerState;
  fires: number;
  successes: number;
  failures: number;
  rejects: number;
  timeouts: number;
  fallbacks: number;
  consecutiveFailures: number;
  trips: number;
  /** When the open period ends, in ms since the epoch; undefined when closed. */
  openUntil: number | undefined;
  inFlight: number;
  latencyMeanMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
}

/** A circuit breaker around `fn`. */
export interface Breaker<A extends unknown[] = unknown[], R = unknown>
  extends RegisteredBreaker,
    Events<BreakerEvents> {
  readonly name: string;
  /** `closed`, `open` or `halfOpen`, read from the clock: no timer moves it. */
  readonly state: BreakerState;
  /** Calls `fn(ctx, ...args)` through the breaker (and its retry, bulkhead and fallback). */
  fire(...args: A): Promise<R>;
  /** `fire` with the caller's AbortSignal: aborting it aborts the attempt and any retry wait. */
  fireWith(options: { signal?: AbortSignal | undefined }, ...args: A): Promise<R>;
  /** Runs any function through this breaker (no fallback, no retry): the policy form. */
  execute<T>(fn: (ctx: CallContext) => Promise<T> | T, signal?: AbortSignal): Promise<T>;
  stats(): BreakerStats;
  /** Forces the breaker open for one open period (e.g. during a known outage). */
  trip(): void;
  /** Forces the breaker closed, forgetting its trips and failures. */
  reset(): void;
  /** The state as plain data, for `initialState`. */
  toJSON(): BreakerSnapshot;
  /**
   * Releases the breaker: later calls reject with `ERR_RESILIENCE_BREAKER_SHUTDOWN`, it leaves
   * its registry at once and stops listening to the shared store. Idempotent.
   */
  close(): Promise<void>;
}

let counter = 0;

/**
 * Creates a circuit breaker around `fn`. `fn` receives a context (`signal`, `attempt`) and then
 * the arguments given to `fire`; hand `ctx.signal` to the I/O so that a timeout or the caller's
 * abort cancels it.
 *
 * opossum 9's `Status` keeps the rolling window and latency percentiles; the state machine is
 * this package's own, so that it can be consecutive-count or percentage driven, let several
 * probes through, lengthen repeated open periods, move without timers, and be shared across
 * instances. Each attempt runs through `attemptRunner` (one promise and one timer per call, as in
 * opossum), not through opossum's `fire`, which would repeat that work under ours.
 */
export function createBreaker<A extends unknown[], R>(
  fn: (ctx: CallContext, ...args: A) => Promise<R> | R,
  options: BreakerOptions<A, R> = {},
): Breaker<A, R> {
  if (typeof fn !== 'function') throw invalidOption('createBreaker(fn): `fn` must be a function.');
  const resolved = resolveBreakerOptions(options as BreakerOptions<never[], unknown>);
  const name = options.name ?? `breaker-${++counter}`;
  const { clock, timeoutMs } = resolved;
  const isFailure = options.isFailure ?? defaultIsFailure;
  const circuit = new CircuitState(resolved.rules, clock, options.initialState);
  const events = new Emitter<BreakerEvents>('resilience');
  const bulkhead =
    resolved.bulkhead && new Bulkhead(resolved.bulkhead.maxConcurrent, resolved.bulkhead.maxQueue);
  const store = options.sharedState;
  let shut = false;
  let lastState: BreakerState = circuit.state;
  const otel = breakerTelemetry(name);
  const stopObserving = observeState(circuit, name);

  const window = new RollingWindow(
    clock,
    resolved.rollingCountTimeoutMs,
    resolved.rollingCountBuckets,
  );
  const windowRate = () => window.rate();

  // Read on every successful call: a getter on a held channel is the cheapest "anyone there?".
  const successChannel = events.channel('success');
  let successHeard = false;
  const timeoutHint = {
    hint: "raise the breaker's `timeout` if the upstream is legitimately slower",
  };
  const outcomes: Outcomes = {
    success(latencyMs) {
      window.count('successes', latencyMs);
      otel.success(latencyMs);
      circuit.success(false);
      // A payload is only built when someone listens.
      if ((successHeard || successChannel.hasSubscribers) && events.has('success')) {
        events.emit('success', { name, latencyMs });
      }
    },
    failure: (a, error, latencyMs) => failed(a, error, latencyMs, 'failure'),
    timeout(a, latencyMs) {
      const error = new TimeoutError(
        timeoutMs === false ? 0 : timeoutMs,
        `A call through breaker "${name}"`,
        timeoutHint,
      );
      window.count('timeouts', latencyMs);
      a.abort(error);
      events.emit('timeout', { name, error });
      failed(a, error, latencyMs, 'timeout');
      return error;
    },
  };
  // A timeout is counted once in telemetry, as a timeout (the window counts it twice, as opossum).
  function failed(a: Attempt, error: unknown, latencyMs: number, as: 'failure' | 'timeout') {
    // An error `isFailure` refuses reaches the caller but counts as a success.
    if (!isFailure(error)) return outcomes.success(latencyMs);
    window.count('failures', latencyMs);
    otel.failure(as, error, latencyMs);
    events.emit('failure', { name, error, latencyMs });
    if (circuit.failure(a.probe, windowRate)) observe(false, error);
  }
  const runAttempt = attemptRunner(window, timeoutMs, outcomes);
  const observe = (remote = false, error?: unknown) => {
    const now = circuit.state;
    if (now === lastState) return;
    const from = lastState;
    lastState = now;
    if (now === 'open') {
      const openUntil = circuit.openUntilMs ?? clock.now();
      const trips = circuit.tripCount;
      events.emit(
        'open',
        error === undefined
          ? { name, openUntil, trips, remote }
          : { name, openUntil, trips, remote, error },
      );
      if (!remote && store) publish({ state: 'open', openUntil, trips, origin: store.instanceId });
    } else if (now === 'halfOpen') events.emit('halfOpen', { name });
    else {
      window.clear();
      events.emit('close', { name, remote });
      if (!remote && store) publish({ state: 'closed', origin: store.instanceId });
    }
    events.emit('stateChange', { name, from, to: now, remote });
  };

  const storeError = (error: unknown) => events.emit('storeError', { name, error });
  const publish = (event: SharedStateEvent) => {
    store?.publish(name, event).catch(storeError);
  };
  const unsubscribeStore = store?.subscribe(name, (event) => {
    if (event.origin === store.instanceId || shut) return;
    if (event.state === 'open') circuit.openUntilTime(event.openUntil, event.trips);
    else circuit.close();
    observe(true);
  });
  store
    ?.load?.(name)
    .then((event) => {
      if (shut) return;
      if (event?.state === 'open' && event.openUntil > clock.now() && circuit.state === 'closed') {
        circuit.openUntilTime(event.openUntil, event.trips);
        observe(true);
      }
    })
    .catch(storeError);

  const reject = (error: Error): Promise<never> => {
    window.count('rejects');
    otel.rejected(error);
    events.emit('reject', { name, error });
    return Promise.reject(error);
  };

  async function admitProbe(): Promise<boolean> {
    if (!store) return true;
    try {
      // The probe right lasts as long as one attempt may; a crashed prober frees it then.
      return await store.acquireProbe(
        name,
        timeoutMs === false ? resolved.rules.resetTimeout : timeoutMs,
      );
    } catch (err) {
      storeError(err);
      return true;
    }
  }

  function attempt<T>(
    run: (ctx: CallContext, ...args: never[]) => unknown,
    args: readonly unknown[],
    signal: AbortSignal | undefined,
    n: number,
  ): Promise<T> {
    if (shut) return Promise.reject(new BreakerShutdownError(name));
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    window.tick(clock.now());
    const admission = circuit.admit();
    if (admission.kind === 'call' && !bulkhead && !signal) {
      // The fast path: a closed breaker, nothing to wait for, nobody to abort.
      if (lastState !== 'closed') observe();
      return runAttempt(new Attempt(run, args, n, undefined, false)) as Promise<T>;
    }
    observe();
    if (admission.kind === 'reject')
      return reject(new BreakerOpenError(name, admission.retryAfterMs));
    return guardedAttempt<T>(run, args, signal, n, admission.kind === 'probe');
  }

  async function guardedAttempt<T>(
    run: (ctx: CallContext, ...args: never[]) => unknown,
    args: readonly unknown[],
    signal: AbortSignal | undefined,
    n: number,
    probe: boolean,
  ): Promise<T> {
    if (probe && !(await admitProbe())) {
      circuit.cancelProbe();
      return reject(new BreakerOpenError(name));
    }
    if (bulkhead) {
      const got = bulkhead.acquire(signal);
      let held: boolean;
      try {
        held = got === true || (await got);
      } catch (err) {
        if (probe) circuit.cancelProbe();
        throw err;
      }
      if (!held) {
        if (probe) circuit.cancelProbe();
        return reject(new BulkheadRejectedError(name, bulkhead.maxConcurrent));
      }
    }
    const a = new Attempt(run, args, n, signal, probe);
    try {
      const value = (await (signal ? abortable(runAttempt(a), signal) : runAttempt(a))) as T;
      if (probe && circuit.success(true)) observe();
      return value;
    } catch (err) {
      if (probe) {
        // The caller's abort says nothing about the upstream: the probe slot is given back.
        if (signal?.aborted) circuit.cancelProbe();
        else if (!isFailure(err) && circuit.success(true)) observe();
      }
      throw err;
    } finally {
      a.done();
      bulkhead?.release();
      if (probe && store?.releaseProbe) store.releaseProbe(name).catch(storeError);
    }
  }

  const fallback = options.fallback;
  // Resolved once: a call pays for no option checks. Never retry into an open breaker: once it
  // has opened, the answer is known.
  const retryOptions: ResolvedRetry | undefined = resolved.retry && {
    ...resolved.retry,
    breakerName: name,
    retryOn: (err, n) =>
      !isBreakerOpenError(err) &&
      circuit.state === 'closed' &&
      (resolved.retry as ResolvedRetry).retryOn(err, n),
  };

  function call(signal: AbortSignal | undefined, args: A): Promise<R> {
    const run = fn as unknown as (ctx: CallContext, ...args: never[]) => unknown;
    const p: Promise<R> = retryOptions
      ? runRetry(
          (ctx) =>
            attempt<R>(run, args, ctx.signal === noSignal ? undefined : ctx.signal, ctx.attempt),
          retryOptions,
          signal ?? retryOptions.signal,
        )
      : attempt<R>(run, args, signal, 1);
    return fallback ? p.catch((err) => answerWithFallback(err, args)) : p;
  }

  async function answerWithFallback(error: unknown, args: A): Promise<R> {
    const inner = isRetryExhaustedError(error) ? error.cause : error;
    if (
      !fallback ||
      !(isFailure(inner) || isBreakerOpenError(inner) || isBulkheadRejectedError(inner))
    )
      throw error;
    const value = await fallback(error, ...args);
    window.count('fallbacks');
    otel.fallback();
    events.emit('fallback', { name, error });
    return value;
  }

  let unregister: (() => void) | undefined;
  const close = async (): Promise<void> => {
    if (shut) return;
    shut = true;
    stopObserving();
    unregister?.();
    unsubscribeStore?.();
    window.close();
    events.clear();
  };
  const breaker: Breaker<A, R> = {
    name,
    get state() {
      const s = circuit.state;
      if (s !== lastState) observe();
      return s;
    },
    fire: (...args: A) => call(undefined, args),
    fireWith: (opts, ...args: A) => call(opts?.signal, args),
    execute: (run, signal) => attempt(run as (ctx: CallContext) => unknown, [], signal, 1),
    stats() {
      window.tick(clock.now());
      const w = window.stats;
      const p = w.percentiles as Record<string, number>;
      return {
        name,
        state: breaker.state,
        fires: w.fires,
        successes: w.successes,
        failures: w.failures,
        rejects: w.rejects,
        timeouts: w.timeouts,
        fallbacks: w.fallbacks,
        consecutiveFailures: circuit.consecutiveFailures,
        trips: circuit.tripCount,
        openUntil: circuit.openUntilMs,
        inFlight: bulkhead?.inFlight ?? 0,
        latencyMeanMs: w.latencyMean,
        p50Ms: p['0.5'] ?? 0,
        p95Ms: p['0.95'] ?? 0,
        p99Ms: p['0.99'] ?? 0,
      };
    },
    on(event, listener) {
      check.func(listener, 'listener');
      if (event === 'success') successHeard = true;
      return events.on(event, listener);
    },
    once(event, listener) {
      check.func(listener, 'listener');
      if (event === 'success') successHeard = true;
      return events.once(event, listener);
    },
    trip() {
      circuit.trip();
      observe();
    },
    reset() {
      circuit.close();
      observe();
    },
    toJSON: () => circuit.snapshot(),
    close,
  };
  const registry: BreakerRegistry | false = options.registry ?? breakers;
  if (registry) unregister = registry.register(breaker);
  return breaker;
}
