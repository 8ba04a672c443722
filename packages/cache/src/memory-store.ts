import type { Clock } from '@org/core';

interface Slot<V> {
  value: V;
  /** Physical expiry, ms since the epoch; Infinity for none. */
  expiresAt: number;
  size: number;
  tags: readonly string[] | undefined;
}

/** Bounds of a memory store. */
export interface MemoryBounds {
  /** Most entries kept; the least recently used go first. @default 10_000 */
  maxEntries?: number | undefined;
  /** Most bytes kept (keys and values, estimated as 2 bytes per UTF-16 unit). @default 64 MiB */
  maxBytes?: number | undefined;
}

const OVERHEAD = 64;

/**
 * An LRU map bounded by entry count and estimated bytes, with per-entry expiry and a tag index.
 * Recency is the insertion order of a `Map`: a hit re-inserts the key at the end, so eviction
 * takes from the front in O(1). Expired entries are dropped when read or when evicted.
 */
export class MemoryStore<V> {
  private readonly map = new Map<string, Slot<V>>();
  private readonly tagIndex = new Map<string, Set<string>>();
  private bytes = 0;
  /**
   * A live iterator over the keys, oldest first, kept between evictions: a fresh one would walk
   * past every slot deleted since the map last compacted (O(n) per eviction in a full store).
   * Everything before its position has been deleted, and re-inserted keys go after it.
   */
  private oldest: Iterator<string> | undefined;
  readonly maxEntries: number;
  readonly maxBytes: number;

  constructor(
    bounds: MemoryBounds,
    private readonly sizeOf: (value: V) => number,
    private readonly clock: Clock,
  ) {
    this.maxEntries = bounds.maxEntries ?? 10_000;
    this.maxBytes = bounds.maxBytes ?? 64 * 1024 * 1024;
  }

  get size(): number {
    return this.map.size;
  }

  get byteSize(): number {
    return this.bytes;
  }

  /** The live value, marking it most recently used; undefined when absent or expired. */
  get(key: string): V | undefined {
    const slot = this.map.get(key);
    if (slot === undefined) return undefined;
    if (slot.expiresAt <= this.clock.now()) {
      this.remove(key, slot);
      return undefined;
    }
    this.map.delete(key);
    this.map.set(key, slot);
    return slot.value;
  }

  /** Stores `value` until `expiresAt`; false when it alone exceeds `maxBytes` (not stored). */
  set(key: string, value: V, expiresAt: number, tags?: readonly string[]): boolean {
    const size = OVERHEAD + key.length * 2 + this.sizeOf(value);
    const old = this.map.get(key);
    if (old !== undefined) this.remove(key, old);
    if (size > this.maxBytes || this.maxEntries <= 0) return false;
    const t = tags !== undefined && tags.length > 0 ? tags : undefined;
    this.map.set(key, { value, expiresAt, size, tags: t });
    this.bytes += size;
    if (t !== undefined) {
      for (const tag of t) {
        let set = this.tagIndex.get(tag);
        if (!set) {
          set = new Set();
          this.tagIndex.set(tag, set);
        }
        set.add(key);
      }
    }
    while (this.map.size > this.maxEntries || this.bytes > this.maxBytes) this.evictOldest();
    return true;
  }

  delete(key: string): boolean {
    const slot = this.map.get(key);
    if (slot === undefined) return false;
    const live = slot.expiresAt > this.clock.now();
    this.remove(key, slot);
    return live;
  }

  /** Deletes every key tagged `tag`; returns the keys deleted. */
  deleteByTag(tag: string): string[] {
    const keys = this.tagIndex.get(tag);
    if (!keys) return [];
    const out = [...keys];
    for (const key of out) {
      const slot = this.map.get(key);
      if (slot) this.remove(key, slot);
    }
    this.tagIndex.delete(tag);
    return out;
  }

  /** Deletes every key that starts with `prefix` (all of them for ''). */
  clear(prefix = ''): void {
    if (prefix === '') {
      this.map.clear();
      this.tagIndex.clear();
      this.bytes = 0;
      return;
    }
    for (const [key, slot] of this.map) if (key.startsWith(prefix)) this.remove(key, slot);
  }

  /** Remaining physical lifetime in ms; undefined when absent. */
  ttlOf(key: string): number | undefined {
    const slot = this.map.get(key);
    if (slot === undefined || slot.expiresAt <= this.clock.now()) return undefined;
    return slot.expiresAt - this.clock.now();
  }

  private evictOldest(): void {
    this.oldest ??= this.map.keys();
    let next = this.oldest.next();
    if (next.done) {
      this.oldest = this.map.keys();
      next = this.oldest.next();
      if (next.done) return;
    }
    const slot = this.map.get(next.value);
    if (slot !== undefined) this.remove(next.value, slot);
  }

  private remove(key: string, slot: Slot<V>): void {
    this.map.delete(key);
    this.bytes -= slot.size;
    if (slot.tags !== undefined) {
      for (const tag of slot.tags) {
        const set = this.tagIndex.get(tag);
        if (!set) continue;
        set.delete(key);
        if (set.size === 0) this.tagIndex.delete(tag);
      }
    }
  }
}
