import { TimeoutError, withTimeout } from '@org/core';
import type { CacheDriver } from './driver.js';
import { backendError } from './errors.js';
import type { CacheBackendError } from './events.js';
import { observeL2, recordL2Error, telemetry } from './telemetry.js';

/** What a guarded call returns when L2 failed, timed out or was skipped. */
export const FAILED: unique symbol = Symbol('l2-failed');
export type Failed = typeof FAILED;

/**
 * Calls that are one plain command each, so that a driver's own command deadline bounds them.
 * Not the scripted ones (`set` with tags, `commit`, `getOrLock`, `unlock`): after a Redis restart
 * a script goes out twice (EVALSHA, then EVAL), which one command deadline does not bound.
 */
const SINGLE_COMMAND = new Set(['get', 'delete', 'lock', 'publish']);

/** Calls that change L2 (or tell other instances about it) rather than read it. */
const WRITES = new Set(['set', 'commit', 'delete', 'deleteByTag', 'clear', 'publish', 'unlock']);

/** Settings and hooks of the L2 guard. */
export interface GuardOptions {
  /** Bound on every L2 call, in ms. */
  timeoutMs: number;
  /** Consecutive failures that mark L2 degraded (a closed connection does at once). */
  failureThreshold: number;
  /** Interval of the background probe while degraded, in ms. */
  probeIntervalMs: number;
  onError(operation: string, key: string | undefined, error: CacheBackendError): void;
  onDegraded(error: CacheBackendError): void;
  onRecovered(downtimeMs: number): void;
  /** Whether writes made while degraded still have to reach L2 before it is used again. */
  hasBacklog?(): boolean;
  /** Sends that backlog to L2 (bounded in time); true when it got through. */
  replayBacklog?(): Promise<boolean>;
}

/**
 * Runs every L2 call with a deadline and turns failures into `FAILED`, so that no caller ever
 * waits longer than `timeoutMs` on Redis or sees its errors. After repeated failures (or a closed
 * connection) L2 is marked degraded and skipped at no cost; an unref'd background probe pings it
 * and brings it back, so recovery needs no caller and no caller waits on a probe.
 */
export class L2Guard {
  private failures = 0;
  private downSince: number | undefined;
  /** Degraded, but L2 answers again and the backlog is being replayed: writes go through. */
  private catchingUp = false;
  private probeTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    readonly driver: CacheDriver,
    private readonly options: GuardOptions,
  ) {}

  /** Whether L2 is in use (not degraded, not closed). */
  get up(): boolean {
    return this.downSince === undefined && !this.stopped;
  }

  /**
   * Whether writes go to L2: when it is up, and while a recovery replays the backlog (so that
   * writes made meanwhile need no replay of their own and the replay can finish under load).
   */
  get writable(): boolean {
    return !this.stopped && (this.downSince === undefined || this.catchingUp);
  }

  /**
   * Runs one L2 call; `traced` (a caller that tested telemetry already passes its answer) puts
   * it in a client span with its duration, and `report` then learns why a call failed.
   */
  run<T>(
    operation: string,
    key: string | undefined,
    fn: (driver: CacheDriver) => Promise<T>,
    traced = telemetry.enabled(),
    report?: (error: CacheBackendError) => void,
  ): Promise<T | Failed> {
    if (
      this.stopped ||
      (this.downSince !== undefined && !(this.catchingUp && WRITES.has(operation)))
    ) {
      return Promise.resolve(FAILED);
    }
    if (traced) {
      return observeL2(this.driver.name, operation, FAILED, (r) =>
        this.run(operation, key, fn, false, r),
      );
    }
    // A driver that bounds this call itself (ioredis `commandTimeout` on a ready connection)
    // gets no second timer: this is on every L2 hit, and the client already armed one.
    const own = SINGLE_COMMAND.has(operation) ? this.driver.commandDeadline?.() : undefined;
    if (own !== undefined && own <= this.options.timeoutMs) {
      let pending: Promise<T>;
      try {
        pending = fn(this.driver);
      } catch (err) {
        pending = Promise.reject(err);
      }
      return pending.then(this.succeeded, (err) => {
        this.fail(operation, key, this.errorOf(operation, err), report);
        return FAILED;
      });
    }
    // One promise and one timer per call, no Promise.race and no AbortController: this is on
    // every L2 call, it resolves FAILED instead of rejecting, and a Redis command cannot be
    // aborted anyway (core's withTimeout would add a controller and two listeners per call).
    return new Promise<T | Failed>((resolve) => {
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        this.fail(operation, key, this.timeoutError(operation), report);
        resolve(FAILED);
      }, this.options.timeoutMs);
      let pending: Promise<T>;
      try {
        pending = fn(this.driver);
      } catch (err) {
        pending = Promise.reject(err);
      }
      pending.then(
        (value) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          this.failures = 0;
          resolve(value);
        },
        (err) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          this.fail(operation, key, backendError(operation, err), report);
          resolve(FAILED);
        },
      );
    });
  }

  private readonly succeeded = <T>(value: T): T => {
    this.failures = 0;
    return value;
  };

  private errorOf(operation: string, err: unknown): CacheBackendError {
    return err instanceof Error && err.message === 'Command timed out'
      ? this.timeoutError(operation)
      : backendError(operation, err);
  }

  private timeoutError(operation: string): TimeoutError {
    return new TimeoutError(this.options.timeoutMs, `Cache backend ${operation}`, {
      hint: 'the call went on without it. Check Redis, or raise `timeouts.command`',
    });
  }

  private fail(
    operation: string,
    key: string | undefined,
    error: CacheBackendError,
    report?: (error: CacheBackendError) => void,
  ): void {
    report?.(error);
    if (this.stopped) return;
    recordL2Error(this.driver.name, operation, error);
    this.options.onError(operation, key, error);
    this.failures++;
    const disconnected = this.driver.isReady?.() === false;
    if (
      this.downSince === undefined &&
      (disconnected || this.failures >= this.options.failureThreshold)
    ) {
      this.downSince = Date.now();
      this.options.onDegraded(error);
      this.scheduleProbe();
    }
  }

  private scheduleProbe(): void {
    if (this.stopped) return;
    this.probeTimer = setTimeout(() => void this.probe(), this.options.probeIntervalMs);
    this.probeTimer.unref();
  }

  /** Round-trips to the backend within `timeoutMs`, whatever the guard's state: true if it answered. */
  async ping(signal?: AbortSignal): Promise<boolean> {
    try {
      await withTimeout<unknown>(
        () => (this.driver.ping ? this.driver.ping() : this.driver.get('\u0000probe')),
        { timeoutMs: this.options.timeoutMs, signal, what: 'Cache backend ping' },
      );
      return true;
    } catch (err) {
      // The caller's own abort is the caller's; a failed or late ping is an unavailable backend.
      if (signal?.aborted) throw err;
      return false;
    }
  }

  private async probe(): Promise<void> {
    if (this.stopped || this.downSince === undefined) return;
    if (!(await this.ping())) return this.scheduleProbe();
    // Writes made while degraded reach L2 before anything reads it again. Meanwhile new writes
    // go to L2 directly; one that fails is journaled and gets another pass, and L2 is marked up
    // right after the check that finds nothing left.
    this.catchingUp = true;
    try {
      for (let pass = 0; this.options.hasBacklog?.() === true; pass++) {
        if (this.stopped) return;
        if (pass >= 5 || !(await this.options.replayBacklog?.())) return this.scheduleProbe();
      }
    } finally {
      this.catchingUp = false;
    }
    if (this.stopped) return;
    const downtime = Date.now() - this.downSince;
    this.downSince = undefined;
    this.failures = 0;
    this.options.onRecovered(downtime);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.probeTimer);
  }
}
