import type { Clock } from '@org/core';

/** What the throttle decided for one event. */
export type ThrottleDecision =
  /** Send it; `suppressed` similar events were held back since the last one sent (summary due). */
  | { send: true; summary?: { suppressed: number; sinceMs: number } }
  | { send: false; first: boolean };

interface Entry {
  start: number;
  count: number;
  suppressed: number;
  suppressedSince: number;
}

/**
 * Per-fingerprint fixed windows: `max` events per `windowMs`, then silence counted as
 * `suppressed` until a summary is taken ({@link Throttle.takeSummaries}) or the window rolls.
 * At most `maxKeys` fingerprints are tracked; the oldest is forgotten (its summary kept).
 */
export class Throttle {
  readonly #entries = new Map<string, Entry>();
  readonly #orphans: { key: string; suppressed: number; sinceMs: number }[] = [];

  constructor(
    readonly max: number,
    readonly windowMs: number,
    private readonly clock: Clock,
    private readonly maxKeys = 1000,
  ) {}

  /** Counts one event of `key` and says whether to send it. */
  hit(key: string): ThrottleDecision {
    const now = this.clock.now();
    let e = this.#entries.get(key);
    if (e === undefined || now - e.start >= this.windowMs) {
      const prior = e?.suppressed ?? 0;
      const since = e?.suppressedSince ?? now;
      if (e === undefined && this.#entries.size >= this.maxKeys) this.#evictOldest();
      e = { start: now, count: 0, suppressed: 0, suppressedSince: now };
      this.#entries.set(key, e);
      if (this.max > 0) {
        e.count = 1;
        return prior > 0
          ? { send: true, summary: { suppressed: prior, sinceMs: since } }
          : { send: true };
      }
    }
    if (e.count < this.max) {
      e.count++;
      return { send: true };
    }
    if (e.suppressed === 0) e.suppressedSince = now;
    e.suppressed++;
    return { send: false, first: e.suppressed === 1 };
  }

  /** Whether any fingerprint holds suppressed events. */
  get pending(): boolean {
    if (this.#orphans.length > 0) return true;
    for (const e of this.#entries.values()) if (e.suppressed > 0) return true;
    return false;
  }

  /**
   * The suppressed counts due now (`all`: every one, as for a flush; otherwise only those whose
   * window has ended), reset to zero.
   */
  takeSummaries(all: boolean): { key: string; suppressed: number; sinceMs: number }[] {
    const now = this.clock.now();
    const out = this.#orphans.splice(0);
    for (const [key, e] of this.#entries) {
      if (e.suppressed === 0) continue;
      if (!all && now - e.start < this.windowMs) continue;
      out.push({ key, suppressed: e.suppressed, sinceMs: e.suppressedSince });
      e.suppressed = 0;
    }
    return out;
  }

  #evictOldest(): void {
    const first = this.#entries.entries().next();
    if (first.done) return;
    const [key, e] = first.value;
    this.#entries.delete(key);
    if (e.suppressed > 0) {
      this.#orphans.push({ key, suppressed: e.suppressed, sinceMs: e.suppressedSince });
    }
  }
}
