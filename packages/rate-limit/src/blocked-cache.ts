/**
 * Ids Redis has refused, remembered in this process until their refusal ends, so that a client
 * hammering while blocked costs no Redis round trip. A refusal holds for any request at least as
 * costly as the one refused. Bounded: past `max` entries the oldest is dropped (it is only a
 * shortcut; Redis still holds the truth).
 */
export class BlockedCache {
  readonly #max: number;
  readonly #entries = new Map<string, { until: number; cost: number; resetAt: number }>();

  constructor(max: number) {
    this.#max = max;
  }

  /**
   * When `key` stays refused for a request of `cost` at `now`: its `until` and the `resetAt`
   * Redis gave; undefined when not known to be refused.
   */
  refusal(key: string, cost: number, now: number): { until: number; resetAt: number } | undefined {
    if (this.#entries.size === 0) return undefined;
    const e = this.#entries.get(key);
    if (e === undefined) return undefined;
    if (e.until <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return cost >= e.cost ? e : undefined;
  }

  /** Remembers that `key` is refused for `cost` until `until`. */
  add(key: string, cost: number, until: number, resetAt: number): void {
    if (this.#max === 0) return;
    this.#entries.delete(key);
    this.#entries.set(key, { until, cost, resetAt });
    if (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }
}
