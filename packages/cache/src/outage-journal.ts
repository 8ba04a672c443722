import { withTimeout } from '@org/core';
import type { CacheDriver } from './driver.js';

/** What a journal holds: keys and tag keys to delete, prefixes to clear. */
interface Recorded {
  keys: Set<string>;
  /** Keys written to L2 whose invalidation message did not go out: announced again, kept. */
  announce: Set<string>;
  tags: Set<string>;
  prefixes: Set<string>;
  /** More was recorded than the bound: clear the whole namespace instead. */
  overflowed: boolean;
}

/** How a replay reaches Redis and the other instances. */
export interface ReplayTarget {
  driver: CacheDriver;
  /** Sends an invalidation message (keys changed, or a prefix cleared) to every instance. */
  publish(msg: { k?: string[]; c?: string }): Promise<void>;
  /** Bound on the whole replay, in ms. */
  timeoutMs: number;
}

const CHUNK = 500;

/**
 * The writes this instance made while L2 was degraded (`set`, `delete`, `deleteByTag`, `clear`
 * reach only L1 then). Redis may still hold the values they replaced or deleted, so before L2 is
 * used again they are replayed: each key deleted, each tag invalidated, each cleared prefix
 * cleared, and the other instances told. Bounded: past `max` records it forgets them and clears
 * the namespace (`rootPrefix`) on recovery instead, which is stricter.
 */
export class OutageJournal {
  private rec: Recorded = fresh();

  constructor(
    private readonly max: number,
    private readonly rootPrefix: string,
  ) {}

  /** Whether there is nothing to replay. */
  get empty(): boolean {
    const r = this.rec;
    return (
      !r.overflowed &&
      r.keys.size === 0 &&
      r.announce.size === 0 &&
      r.tags.size === 0 &&
      r.prefixes.size === 0
    );
  }

  /** A key set or deleted while L2 was degraded. */
  key(fullKey: string): void {
    this.add(this.rec.keys, fullKey);
  }

  /** A key written to L2 whose invalidation message failed: replayed as a message only. */
  announce(fullKey: string): void {
    this.add(this.rec.announce, fullKey);
  }

  /** A tag deleted while L2 was degraded. */
  tag(tagKey: string): void {
    this.add(this.rec.tags, tagKey);
  }

  /** A prefix cleared while L2 was degraded. */
  clear(prefix: string): void {
    this.add(this.rec.prefixes, prefix);
  }

  private add(set: Set<string>, item: string): void {
    const r = this.rec;
    if (r.overflowed) return;
    set.add(item);
    if (r.keys.size + r.announce.size + r.tags.size + r.prefixes.size > this.max)
      this.rec = { ...fresh(), overflowed: true };
  }

  /**
   * Applies what was recorded to L2 within `timeoutMs`; true when done. On failure everything
   * taken is put back (the steps are idempotent) and the next recovery attempt tries again.
   */
  async replay(target: ReplayTarget): Promise<boolean> {
    const taken = this.rec;
    this.rec = fresh();
    try {
      await withTimeout(() => apply(taken, this.rootPrefix, target), {
        timeoutMs: target.timeoutMs,
        what: 'The outage journal replay',
      });
      return true;
    } catch {
      this.restore(taken);
      return false;
    }
  }

  private restore(taken: Recorded): void {
    if (taken.overflowed) {
      this.rec = { ...fresh(), overflowed: true };
      return;
    }
    for (const k of taken.keys) this.key(k);
    for (const k of taken.announce) this.announce(k);
    for (const t of taken.tags) this.tag(t);
    for (const p of taken.prefixes) this.clear(p);
  }
}

function fresh(): Recorded {
  return {
    keys: new Set(),
    announce: new Set(),
    tags: new Set(),
    prefixes: new Set(),
    overflowed: false,
  };
}

async function apply(r: Recorded, rootPrefix: string, { driver, publish }: ReplayTarget) {
  if (r.overflowed) {
    await driver.clear(rootPrefix);
    await publish({ c: rootPrefix });
    return;
  }
  for (const prefix of r.prefixes) {
    await driver.clear(prefix);
    await publish({ c: prefix });
  }
  const keys = [...r.keys];
  for (const tag of r.tags) {
    // A driver without tags never indexed any in L2: the L1 side was all there was.
    if (driver.deleteByTag) keys.push(...(await driver.deleteByTag(tag)));
  }
  for (let i = 0; i < keys.length; i += CHUNK) {
    const chunk = keys.slice(i, i + CHUNK);
    await Promise.all(chunk.map((k) => driver.delete(k)));
    await publish({ k: chunk });
  }
  const told = new Set(keys);
  const announce = [...r.announce].filter((k) => !told.has(k));
  for (let i = 0; i < announce.length; i += CHUNK) {
    await publish({ k: announce.slice(i, i + CHUNK) });
  }
}
