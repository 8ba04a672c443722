import { channel } from 'node:diagnostics_channel';
import { EventEmitter } from 'node:events';
import CircuitBreaker from 'opossum';
import { abortable } from './abort.js';
import { Attempt, toTimeoutError } from './attempt.js';
import { type BreakerOptions, defaultIsFailure, resolveBreakerOptions } from './breaker-options.js';
import { Bulkhead } from './bulkhead.js';
import { type BreakerSnapshot, type BreakerState, CircuitState } from './circuit-state.js';
import {
  AbortedError,
  BreakerOpenError,
  BreakerShutdownError,
  BulkheadRejectedError,
  isAbortedError,
  isBreakerOpenError,
  isBulkheadRejectedError,
  isRetryExhaustedError,
} from './errors.js';
import { Emitter, type Unsubscribe } from './events.js';
import { type BreakerRegistry, breakers, type RegisteredBreaker } from './registry.js';
import { type AttemptContext, isRetryable, noSignal, type RetryOptions, retry } from './retry.js';
import type { SharedStateEvent } from './shared-state.js';

/** What `fn` receives first on every call. */
export type CallContext = AttemptContext;

/** Events of a breaker; `on(event, listener)` returns an unsubscribe function. */
export interface BreakerEvents {
  /** The breaker opened: after failures here (`remote: false`) or on another instance. */
  open: (info: { openUntil: number; trips: number; remote: boolean; error?: unknown }) => void;
  /** The open period is over; probes may go through. Emitted when next looked at. */
  halfOpen: () => void;
  /** Probes succeeded (or another instance closed it); calls flow again. */
  close: (info: { remote: boolean }) => void;
  /** A call was refused without running: open breaker or full bulkhead. */
  reject: (error: unknown) => void;
  /** An attempt ran past `timeout`. */
  timeout: (error: unknown) => void;
  /** An attempt failed in a way that counts against the upstream. */
  failure: (error: unknown, latencyMs: number) => void;
  /** An attempt succeeded (or failed in a way `isFailure` does not count). */
  success: (latencyMs: number) => void;
  /** The fallback answered instead of an error. */
  fallback: (error: unknown) => void;
  /** The shared state store failed; the breaker goes on deciding alone. */
  storeError: (error: unknown) => void;
}

/** Counts over the rolling window, plus the breaker's own state. */
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
  openUntil: number | undefined;
  inFlight: number;
  latencyMean: number;
  p50: number;
  p95: number;
  p99: number;
}

/** A circuit breaker around `fn`. */
export interface Breaker<A extends unknown[] = unknown[], R = unknown> extends RegisteredBreaker {
  readonly name: string;
  /** `closed`, `open` or `halfOpen`, read from the clock: no timer moves it. */
  readonly state: BreakerState;
  /** Calls `fn(ctx, ...args)` through the breaker (and its retry, bulkhead and fallback). */
  fire(...args: A): Promise<R>;
  /** `fire` with the caller's AbortSignal: aborting it aborts the attempt and any retry wait. */
  fireWith(options: { signal?: AbortSignal }, ...args: A): Promise<R>;
  /** Runs any function through this breaker (no fallback, no retry): the policy form. */
  execute<T>(fn: (ctx: CallContext) => Promise<T> | T, signal?: AbortSignal): Promise<T>;
  stats(): BreakerStats;
  on<K extends keyof BreakerEvents>(event: K, listener: BreakerEvents[K]): Unsubscribe;
  /** Forces the breaker open for one open period (e.g. during a known outage). */
  open(): void;
  /** Forces the breaker closed. */
  close(): void;
  /** The state as plain data, for `initialState`. */
  toJSON(): BreakerSnapshot;
  /** Stops the breaker: later calls reject, it leaves the registry and the shared store. */
  shutdown(): void;
}

const stateChannel = channel('org:resilience:breaker:state');
let counter = 0;

/**
 * Creates a circuit breaker around `fn`. `fn` receives a context (`signal`, `attempt`) and then
 * the arguments given to `fire`; hand `ctx.signal` to the I/O so that a timeout or the caller's
 * abort cancels it.
 *
 * opossum 9 keeps the rolling window and latency percentiles; the state machine is this
 * package's own, so that it can be consecutive-count or percentage driven, let several probes
 * through, lengthen repeated open periods, move without timers, and be shared across instances.
 */
export function createBreaker<A extends unknown[], R>(
  fn: (ctx: CallContext, ...args: A) => Promise<R> | R,
  options: BreakerOptions<A, R> = {},
): Breaker<A, R> {
  if (typeof fn !== 'function') throw new TypeError('createBreaker(fn): fn must be a function');
  const resolved = resolveBreakerOptions(options as BreakerOptions<never[], unknown>);
  const name = options.name ?? `breaker-${++counter}`;
  const clock = options.clock ?? (() => Date.now());
  const isFailure = options.isFailure ?? defaultIsFailure;
  const { timeout } = resolved;
  const circuit = new CircuitState(resolved.rules, clock, options.initialState);
  const events = new Emitter<BreakerEvents>();
  const bulkhead =
    resolved.bulkhead && new Bulkhead(resolved.bulkhead.maxConcurrent, resolved.bulkhead.maxQueue);
  const store = options.sharedState;
  let shut = false;
  let lastState: BreakerState = circuit.state;

  // The window turns on the clock, not on a timer: buckets rotate when a call comes in.
  const rotator = new EventEmitter();
  const bucketMs = resolved.rollingCountTimeout / resolved.rollingCountBuckets;
  let lastRotate = clock();
  const rotate = (force?: number) => {
    const now = clock();
    if (force === undefined && now - lastRotate < bucketMs) return;
    const n = force ?? Math.floor((now - lastRotate) / bucketMs);
    if (n <= 0) return;
    for (let i = 0; i < Math.min(n, resolved.rollingCountBuckets); i++) rotator.emit('rotate');
    lastRotate = force === undefined ? lastRotate + n * bucketMs : now;
  };
  const window = new CircuitBreaker((a: Attempt) => a.exec(), {
    name,
    timeout,
    // The window only counts and times: it must never open on its own.
    errorThresholdPercentage: 100,
    volumeThreshold: Number.MAX_SAFE_INTEGER,
    rollingCountTimeout: resolved.rollingCountTimeout,
    rollingCountBuckets: resolved.rollingCountBuckets,
    rotateBucketController: rotator,
    enableSnapshots: false,
    errorFilter: (err: unknown) => !isFailure(err),
  });
  const windowRate = () => window.stats;

  // Outcomes are read from opossum's events rather than by chaining every call's promise:
  // a success costs no extra promise, and failures carry the attempt that failed.
  window.on('success', (_result: unknown, latency: number) => {
    circuit.success(false);
    if (events.has('success')) events.emit('success', latency);
  });
  const on = window.on.bind(window) as (
    event: string,
    listener: (...args: never[]) => void,
  ) => void;
  on('timeout', (err: unknown, _latency: number, args: Attempt[]) => {
    const error = toTimeoutError(err, timeout === false ? 0 : timeout, name);
    args[0]?.abort(error);
    events.emit('timeout', error);
  });
  on('failure', (err: unknown, latency: number, args: Attempt[]) => {
    events.emit('failure', err, latency);
    if (circuit.failure(args[0]?.probe ?? false, windowRate)) observe(false, err);
  });
  const observe = (remote = false, error?: unknown) => {
    const now = circuit.state;
    if (now === lastState) return;
    const from = lastState;
    lastState = now;
    if (now === 'open') {
      events.emit('open', {
        openUntil: circuit.openUntilMs ?? clock(),
        trips: circuit.tripCount,
        remote,
        error,
      });
      if (!remote && store) {
        publish({
          state: 'open',
          openUntil: circuit.openUntilMs ?? clock(),
          trips: circuit.tripCount,
          origin: store.instanceId,
        });
      }
    } else if (now === 'halfOpen') events.emit('halfOpen');
    else {
      rotate(resolved.rollingCountBuckets);
      events.emit('close', { remote });
      if (!remote && store) publish({ state: 'closed', origin: store.instanceId });
    }
    if (stateChannel.hasSubscribers) stateChannel.publish({ name, from, to: now, remote });
  };

  const publish = (event: SharedStateEvent) => {
    store?.publish(name, event).catch((err) => events.emit('storeError', err));
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
      if (event?.state === 'open' && event.openUntil > clock() && circuit.state === 'closed') {
        circuit.openUntilTime(event.openUntil, event.trips);
        observe(true);
      }
    })
    .catch((err) => events.emit('storeError', err));

  const reject = (err: Error): Promise<never> => {
    window.emit('reject', err);
    events.emit('reject', err);
    return Promise.reject(err);
  };

  async function admitProbe(): Promise<boolean> {
    if (!store) return true;
    try {
      // The probe right lasts as long as one attempt may; a crashed prober frees it then.
      return await store.acquireProbe(
        name,
        timeout === false ? resolved.rules.resetTimeout : timeout,
      );
    } catch (err) {
      events.emit('storeError', err);
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
    if (signal?.aborted) return Promise.reject(new AbortedError(signal.reason));
    rotate();
    const admission = circuit.admit();
    if (admission.kind === 'call' && !bulkhead && !signal) {
      // The fast path: a closed breaker, nothing to wait for, nobody to abort.
      if (lastState !== 'closed') observe();
      return window.fire(new Attempt(run, args, n, undefined, false)) as Promise<T>;
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
      const value = (await (signal ? abortable(window.fire(a), signal) : window.fire(a))) as T;
      if (probe && circuit.success(true)) observe();
      return value;
    } catch (err) {
      if (probe) {
        if (isAbortedError(err) && signal?.aborted) circuit.cancelProbe();
        else if (!isFailure(err) && circuit.success(true)) observe();
      }
      throw err;
    } finally {
      a.done();
      bulkhead?.release();
      if (probe && store?.releaseProbe)
        store.releaseProbe(name).catch((e) => events.emit('storeError', e));
    }
  }

  const retryOptions = options.retry;
  const fallback = options.fallback;
  const userRetryOn = retryOptions?.retryOn ?? isRetryable;
  const retryWith =
    retryOptions &&
    ((signal: AbortSignal | undefined): RetryOptions => ({
      ...retryOptions,
      signal: signal ?? retryOptions.signal,
      // Never retry into an open breaker: once it has opened, the answer is known.
      retryOn: (err, n) =>
        !isBreakerOpenError(err) && circuit.state === 'closed' && userRetryOn(err, n),
    }));

  function call(signal: AbortSignal | undefined, args: A): Promise<R> {
    const run = fn as unknown as (ctx: CallContext, ...args: never[]) => unknown;
    const p: Promise<R> = retryWith
      ? retry(
          (ctx) =>
            attempt<R>(run, args, ctx.signal === noSignal ? undefined : ctx.signal, ctx.attempt),
          retryWith(signal),
        )
      : attempt<R>(run, args, signal, 1);
    return fallback ? p.catch((err) => answerWithFallback(err, args)) : p;
  }

  async function answerWithFallback(err: unknown, args: A): Promise<R> {
    const inner = isRetryExhaustedError(err) ? err.cause : err;
    if (
      !fallback ||
      !(isFailure(inner) || isBreakerOpenError(inner) || isBulkheadRejectedError(inner))
    )
      throw err;
    const value = await fallback(err, ...args);
    window.emit('fallback', value, err);
    events.emit('fallback', err);
    return value;
  }

  let unregister: (() => void) | undefined;
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
      rotate();
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
        latencyMean: w.latencyMean,
        p50: p['0.5'] ?? 0,
        p95: p['0.95'] ?? 0,
        p99: p['0.99'] ?? 0,
      };
    },
    on: (event, listener) => events.on(event, listener),
    open() {
      circuit.trip();
      observe();
    },
    close() {
      circuit.close();
      observe();
    },
    toJSON: () => circuit.snapshot(),
    shutdown() {
      if (shut) return;
      shut = true;
      unregister?.();
      unsubscribeStore?.();
      window.shutdown();
      events.clear();
    },
  };
  const registry: BreakerRegistry | false = options.registry ?? breakers;
  if (registry) unregister = registry.register(breaker);
  return breaker;
}
