import { EventEmitter } from 'node:events';
import type { Clock } from '@org/core';
import CircuitBreaker from 'opossum';

/** What the window counts: one per call that ran, and one per outcome. */
export type WindowCounter =
  | 'fires'
  | 'successes'
  | 'failures'
  | 'timeouts'
  | 'rejects'
  | 'fallbacks';

/** opossum's Status as it is (its typings leave out the two methods used here). */
interface OpossumStatus extends CircuitBreaker.Status {
  increment(counter: WindowCounter, latencyMs?: number): void;
  shutdown(): void;
}

/**
 * The breaker's rolling window: counts and latencies per bucket, kept by opossum's own `Status`
 * (what opossum adds over a counter: the bucketed window and its latency percentiles), with the
 * buckets turned by the clock when a call comes in rather than by a timer. Nothing of opossum's
 * per-call machinery (its promise, timer and events) runs: the breaker counts directly.
 */
export class RollingWindow {
  readonly #rotator = new EventEmitter();
  readonly #status: OpossumStatus;
  readonly #bucketMs: number;
  readonly #buckets: number;
  #lastRotate: number;

  constructor(
    private readonly clock: Clock,
    windowMs: number,
    buckets: number,
  ) {
    this.#buckets = buckets;
    this.#bucketMs = windowMs / buckets;
    this.#lastRotate = clock.now();
    this.#status = CircuitBreaker.newStatus({
      rollingCountTimeout: windowMs,
      rollingCountBuckets: buckets,
      rotateBucketController: this.#rotator,
      enableSnapshots: false,
    }) as OpossumStatus;
  }

  /** Turns the buckets that have passed by `now` (ms by the breaker's clock). */
  tick(now: number): void {
    if (now - this.#lastRotate < this.#bucketMs) return;
    const n = Math.floor((now - this.#lastRotate) / this.#bucketMs);
    for (let i = 0; i < Math.min(n, this.#buckets); i++) this.#rotator.emit('rotate');
    this.#lastRotate += n * this.#bucketMs;
  }

  /** Empties the window (the breaker closed: what came before says nothing any more). */
  clear(): void {
    for (let i = 0; i < this.#buckets; i++) this.#rotator.emit('rotate');
    this.#lastRotate = this.clock.now();
  }

  count(counter: WindowCounter, latencyMs?: number): void {
    this.#status.increment(counter, latencyMs);
  }

  /**
   * Calls and failures over the window, summed from the buckets: what the percentage rule
   * reads on a failure, without the sorted latencies that `stats` builds.
   */
  rate(): { fires: number; failures: number } {
    let fires = 0;
    let failures = 0;
    for (const b of this.#status.window) {
      fires += b.fires;
      failures += b.failures;
    }
    return { fires, failures };
  }

  /** Totals over the window, with the latency mean and percentiles. */
  get stats(): CircuitBreaker.Stats {
    return this.#status.stats;
  }

  close(): void {
    this.#status.shutdown();
  }
}
