import { encodeBusMessage } from './invalidations.js';
import { FAILED, type L2Guard } from './l2-guard.js';
import type { OutageJournal } from './outage-journal.js';

/** Most keys one coalesced message names; a burst past it goes out in more than one. */
const MAX_KEYS = 500;

/** What the announcer needs of its cache. */
export interface AnnouncerHost {
  readonly id: string;
  readonly channel: string;
  readonly guard: L2Guard | undefined;
  readonly journal: OutageJournal;
}

/**
 * The invalidations of writes (`set`, `getOrSet` loads), at most one message per `windowMs`. A
 * write after a quiet window `claim`s the message and sends it with the write itself (one round
 * trip, as without an announcer); the writes that follow within the window are `add`ed and go out
 * together as one `PUBLISH` naming them all when the window closes, always after they reached
 * Redis (a waiter woken by the message finds the value). Every message costs Redis a command and
 * a delivery to every subscriber, this instance's own included: under a burst of writes, one per
 * window instead of one per write is what this saves; a lone write waits for nothing. A message
 * that fails puts its keys in the outage journal, to be announced again on recovery.
 */
export class Announcer {
  private keys = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> | undefined;
  /** When the last message went out (`performance.now()`). */
  private lastSent = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly host: AnnouncerHost,
    readonly windowMs: number,
  ) {}

  /** Whether keys wait to be announced. */
  get pending(): boolean {
    return this.keys.size > 0;
  }

  /**
   * True when no message went out within the window and none waits: the caller then sends its
   * write's invalidation with the write, now, and that counts as this window's message.
   */
  claim(): boolean {
    if (this.keys.size > 0 || this.timer !== undefined) return false;
    const now = performance.now();
    if (now - this.lastSent < this.windowMs) return false;
    this.lastSent = now;
    return true;
  }

  /** Announces `fullKey` (already written) with the other keys of this window, when it closes. */
  add(fullKey: string): void {
    this.keys.add(fullKey);
    if (this.keys.size >= MAX_KEYS) {
      void this.flush();
      return;
    }
    if (this.timer === undefined) {
      // Background: a write's caller never waits for it. `close()` flushes what is left.
      const wait = Math.max(0, this.lastSent + this.windowMs - performance.now());
      this.timer = setTimeout(() => void this.flush(), wait);
      this.timer.unref();
    }
  }

  /** Sends what is pending now; resolves once it was sent (or failed and was journaled). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.keys.size === 0) return this.sending ?? Promise.resolve();
    const keys = [...this.keys];
    this.keys = new Set();
    this.lastSent = performance.now();
    const sent = this.send(keys);
    const prev = this.sending;
    const both: Promise<void> = prev ? Promise.all([prev, sent]).then(() => {}) : sent;
    this.sending = both;
    void both.then(() => {
      if (this.sending === both) this.sending = undefined;
    });
    return both;
  }

  private async send(keys: string[]): Promise<void> {
    const { guard, journal, channel, id } = this.host;
    if (!guard) return;
    const text = encodeBusMessage(id, { k: keys });
    const done = await guard.run(
      'publish',
      undefined,
      (d) => d.publish?.(channel, text) ?? Promise.resolve(),
    );
    // Another instance may still hold the values these keys replaced: the message goes out
    // again on recovery (the values written stay in Redis).
    if (done === FAILED) for (const k of keys) journal.announce(k);
  }
}
