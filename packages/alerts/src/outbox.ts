import { type Emitter, withTimeout } from '@org/core';
import type { Event } from '@sentry/core';
import { AlertsError, AlertsErrorCode } from './errors.js';
import type { Raw } from './event.js';
import type { AlertsEvents } from './events.js';
import { recordDropped, recordSendFailure, recordSent } from './telemetry.js';
import type { SendOutcome } from './transport.js';

/** Where built events go: Sentry (own or app's client) or stderr. */
export interface Sink {
  send(event: Event, raw: Raw): Promise<SendOutcome> | SendOutcome;
  close(): Promise<void>;
}

interface Item {
  raw: Raw;
  event?: Event | null;
}

const MIN_BACKOFF = 100;
const YIELD_EVERY = 8;

/**
 * The bounded queue between `captureException` and the sink. Pushing is O(1) and never waits;
 * when `max` events are waiting the new one is dropped (the first events of an incident are the
 * ones worth reading), counted, and the count rides on the next event sent. Events are sent one
 * at a time; through an outage or a 429 the head is kept and retried after `Retry-After` or a
 * backoff (100 ms doubling to `maxBackoffMs`).
 */
export class Outbox {
  readonly #items: Item[] = [];
  #head = 0;
  #running = false;
  #timer: NodeJS.Timeout | undefined;
  #failures = 0;
  #dropped = 0;
  #closed = false;
  #waiters: (() => void)[] = [];

  constructor(
    private readonly max: number,
    private readonly maxBackoffMs: number,
    private readonly build: (raw: Raw) => Event | null,
    private readonly sink: Sink,
    private readonly events: Emitter<AlertsEvents>,
    /** Where the sink sends, for telemetry. */
    private readonly destination = 'unknown',
  ) {}

  /** Events waiting (including the one being sent). */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** Queues `raw`; false when the queue is full (or closed) and it was dropped. */
  push(raw: Raw): boolean {
    if (this.#closed || this.size >= this.max) {
      this.#dropped++;
      recordDropped(this.#closed ? 'closed' : 'queueFull');
      if (this.events.has('dropped')) {
        this.events.emit('dropped', { reason: this.#closed ? 'closed' : 'queueFull', count: 1 });
      }
      return false;
    }
    if (this.#dropped > 0) {
      raw.dropped = this.#dropped;
      this.#dropped = 0;
    }
    this.#items.push({ raw });
    if (!this.#running && this.#timer === undefined) {
      this.#running = true;
      setImmediate(() => void this.#run());
    }
    return true;
  }

  /** Resolves when the queue is empty; rejects with `TimeoutError` past `timeoutMs`. */
  drained(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return withTimeout(() => new Promise<void>((resolve) => this.#waiters.push(resolve)), {
      timeoutMs,
      signal,
      what: 'Flushing alerts',
      hint: 'Sentry is slow or unreachable; events stay queued.',
    });
  }

  /** Stops sending and forgets what is queued. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#items.length = 0;
    this.#head = 0;
    this.#settle();
  }

  #wake(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#running = true;
    setImmediate(() => void this.#run());
  }

  async #run(): Promise<void> {
    try {
      let turn = 0;
      while (!this.#closed && this.size > 0) {
        // A burst is built and handed over a few events per event-loop turn, so that a sink that
        // answers at once (stderr, an app's client) never holds the loop for the whole queue.
        if (++turn % YIELD_EVERY === 0) await new Promise<void>((r) => setImmediate(r));
        if (this.#closed) return;
        const item = this.#items[this.#head]!;
        if (item.event === undefined) item.event = this.#safeBuild(item.raw);
        let outcome: SendOutcome = { kind: 'ok' };
        if (item.event !== null) {
          try {
            outcome = await this.sink.send(item.event, item.raw);
          } catch (error) {
            outcome = { kind: 'retry', afterMs: 0, error };
          }
        }
        if (this.#closed) return;
        if (outcome.kind === 'retry') {
          this.#failures++;
          const backoff = Math.min(this.maxBackoffMs, MIN_BACKOFF * 2 ** (this.#failures - 1));
          const delay = Math.max(outcome.afterMs, backoff);
          this.#retryLater(delay, outcome);
          return;
        }
        this.#failures = 0;
        if (outcome.kind === 'ok' && item.event !== null)
          recordSent(this.destination, item.raw.level);
        if (outcome.kind === 'rejected') {
          recordDropped('rejected');
          this.events.emit('dropped', {
            reason: 'rejected',
            count: 1,
            statusCode: outcome.statusCode,
          });
        }
        this.#shift();
      }
    } finally {
      if (this.#timer === undefined) this.#running = false;
      this.#settle();
    }
  }

  #retryLater(delayMs: number, outcome: SendOutcome & { kind: 'retry' }): void {
    this.#timer = setTimeout(() => this.#wake(), delayMs);
    this.#timer.unref();
    recordSendFailure(this.destination, outcome.statusCode);
    if (this.events.has('sendFailed')) {
      const error = new AlertsError(
        AlertsErrorCode.Transport,
        outcome.statusCode === undefined
          ? 'Sentry could not be reached; the event stays queued and is retried. Check the DSN host and the network.'
          : `Sentry answered ${outcome.statusCode}; the event stays queued and is retried.`,
        outcome.error === undefined ? undefined : { cause: outcome.error },
      );
      this.events.emit('sendFailed', {
        error,
        retryInMs: delayMs,
        queued: this.size,
        ...(outcome.statusCode === undefined ? {} : { statusCode: outcome.statusCode }),
      });
    }
  }

  #shift(): void {
    this.#items[this.#head] = undefined as never;
    this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items.splice(0, this.#head);
      this.#head = 0;
    }
  }

  #safeBuild(raw: Raw): Event | null {
    try {
      return this.build(raw);
    } catch {
      return null;
    }
  }

  #settle(): void {
    if (this.size > 0 || this.#waiters.length === 0) return;
    for (const w of this.#waiters.splice(0)) w();
  }
}
