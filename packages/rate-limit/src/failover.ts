import type { Emitter, OrgError } from '@org/core';
import { backendError } from './errors.js';
import type { RateLimitEvents } from './events.js';
import type { RateLimitStore } from './store.js';
import { recordFallback } from './telemetry.js';

/**
 * Whether the limiter is on Redis or on its fallback. The first failure (an error, or no answer
 * within the timeout) switches every tier to its `failurePolicy` at once, so no later call waits
 * on a dead Redis; a background `PING` every `probeMs` (an `unref()`ed timer, running only while
 * on the fallback) switches back as soon as Redis answers.
 */
export class Failover {
  readonly #store: RateLimitStore;
  readonly #events: Emitter<RateLimitEvents>;
  readonly #probeMs: number;
  #since = 0;
  #timer: NodeJS.Timeout | undefined;
  #probing = false;
  #closed = false;
  /** The error that put the limiter on its fallback, while it is there. */
  lastError: OrgError | undefined;

  constructor(store: RateLimitStore, events: Emitter<RateLimitEvents>, probeMs: number) {
    this.#store = store;
    this.#events = events;
    this.#probeMs = probeMs;
  }

  /** True while the limiter answers from its fallback. */
  get down(): boolean {
    return this.lastError !== undefined;
  }

  /** How long the limiter has been on its fallback, in ms (0 when it is not). */
  get downtimeMs(): number {
    return this.down ? Date.now() - this.#since : 0;
  }

  /** Reports a failed Redis call. */
  fail(error: OrgError): void {
    if (this.#closed) return;
    const first = !this.down;
    this.lastError = error;
    if (!first) return;
    this.#since = Date.now();
    this.#timer = setInterval(() => void this.probe(), this.#probeMs);
    this.#timer.unref();
    recordFallback(error);
    this.#events.emit('fallback', { error });
  }

  /** Pings Redis now (unless a ping is under way); back on Redis when it answers. */
  async probe(): Promise<boolean> {
    if (!this.down) return true;
    if (this.#probing || !this.#store.ping) return false;
    this.#probing = true;
    try {
      await this.#store.ping();
      this.#recover();
      return true;
    } catch (err) {
      if (this.down) this.lastError = backendError(err);
      return false;
    } finally {
      this.#probing = false;
    }
  }

  #recover(): void {
    if (!this.down) return;
    const downtimeMs = this.downtimeMs;
    this.lastError = undefined;
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (!this.#closed) this.#events.emit('recovered', { downtimeMs });
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
