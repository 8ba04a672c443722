import type { SecretValue } from './secret-value.js';

/** One cached secret version: its value, when it expires, and how its provider is doing. */
export interface Entry {
  readonly key: string;
  /** Full name at the provider. */
  readonly name: string;
  /** The name as the app wrote it, without the prefix. */
  readonly bareName: string;
  /** `versionKey` of the version. */
  readonly version: string;
  value: SecretValue | undefined;
  /** `clock.now()` after which the value is refreshed before being served (ms since epoch). */
  expiresAt: number;
  /** Values of JSON fields, parsed once per value. */
  fields: Map<string, SecretValue | Error> | undefined;
  /** The provider call in flight for this entry: every caller awaits this one. */
  inflight: Promise<SecretValue> | undefined;
  /** Provider failures in a row. */
  failures: number;
  /** When the first of those failures happened (ms since epoch). */
  failingSince: number;
  /** No provider call before this (ms since epoch): the backoff after a failure. */
  nextAttemptAt: number;
  /** The code of the last failure. */
  lastCode: string | undefined;
  /** `failures` when the last `stale` event was emitted. */
  staleReported: number;
}

/**
 * The cache of one secrets client: a `Map` kept in least-recently-used order, bounded by
 * `maxEntries`. An entry with a call in flight is never evicted (its callers would lose it).
 */
export class EntryCache {
  readonly #entries = new Map<string, Entry>();
  readonly #max: number;
  readonly #onEvict: (entry: Entry) => void;
  /** The most recently used key: reading it again needs no reordering. */
  #last: string | undefined;

  constructor(max: number, onEvict: (entry: Entry) => void) {
    this.#max = max;
    this.#onEvict = onEvict;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The entry under `key`, moved to the most recently used end. */
  touch(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry !== undefined && key !== this.#last) {
      this.#entries.delete(key);
      this.#entries.set(key, entry);
      this.#last = key;
    }
    return entry;
  }

  /** The entry under `key`, made (and the cache trimmed) when there is none. */
  ensure(key: string, name: string, bareName: string, version: string): Entry {
    const found = this.touch(key);
    if (found) return found;
    const entry: Entry = {
      key,
      name,
      bareName,
      version,
      value: undefined,
      expiresAt: 0,
      fields: undefined,
      inflight: undefined,
      failures: 0,
      failingSince: 0,
      nextAttemptAt: 0,
      lastCode: undefined,
      staleReported: 0,
    };
    this.#entries.set(key, entry);
    this.#last = key;
    this.#trim();
    return entry;
  }

  delete(entry: Entry): void {
    if (this.#entries.get(entry.key) === entry) this.#entries.delete(entry.key);
    if (this.#last === entry.key) this.#last = undefined;
  }

  values(): IterableIterator<Entry> {
    return this.#entries.values();
  }

  /** Every entry of a name (any version), or every entry. */
  select(name?: string): Entry[] {
    return [...this.#entries.values()].filter((e) => name === undefined || e.name === name);
  }

  clear(): void {
    this.#entries.clear();
    this.#last = undefined;
  }

  #trim(): void {
    if (this.#entries.size <= this.#max) return;
    for (const entry of this.#entries.values()) {
      if (this.#entries.size <= this.#max) return;
      if (entry.inflight !== undefined) continue;
      this.delete(entry);
      this.#onEvict(entry);
    }
  }
}

/** The wait before attempt `failures + 1`: doubling from `base`, at most `max` (ms). */
export function backoffMs(failures: number, base: number, max: number): number {
  return Math.min(max, base * 2 ** Math.min(30, Math.max(0, failures - 1)));
}
