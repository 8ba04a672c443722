import type { TwoTierCache, WriteOptions } from './cache.js';
import { type Entry, encodeEntry } from './envelope.js';
import { unsupported } from './errors.js';
import { encodeBusMessage } from './invalidations.js';
import { FAILED, type L2Guard } from './l2-guard.js';

// The calls that change what is cached: both tiers, the other instances, and the outage journal
// for whatever L2 did not get.

/**
 * Writes an entry to both tiers and announces it; L2 failures are absorbed. With `unlock`, a
 * driver that can (`commit`) also releases that lock in the same round trip: the result says
 * whether it did.
 */
export async function writeEntry<P extends string>(
  c: TwoTierCache<P>,
  fullKey: string,
  e: Entry,
  w: WriteOptions,
): Promise<boolean> {
  c.invalidations.mark(fullKey);
  const tags = w.tags;
  const tagKeys = tags && tags.length > 0 ? tags.map((t) => c.tagKey(t)) : undefined;
  c.storeL1(fullKey, e, w.graceMs, tagKeys, w.l1TtlMs);
  const guard = c.guard;
  if (!guard?.writable) {
    // Redis may still hold the value this one replaces: it goes when L2 comes back.
    if (guard) c.journal.key(fullKey);
    return false;
  }
  const raw = encodeEntry(e);
  const ttlMs = e.ttlMs + w.graceMs;
  const key = fullKey.slice(c.prefix.length + 2);
  const epoch = c.invalidations.epoch;
  let released = false;
  let failed: boolean;
  // The invalidation goes with the write itself, unless the announcer coalesces it with the
  // other writes of its window (then it goes out after the write).
  const announcer = c.announcer;
  const inline = c.publishing && (announcer === undefined || announcer.claim());
  if (guard.driver.commit && (inline || w.unlock !== undefined || tagKeys)) {
    // SET, tags, lock release and PUBLISH in one command and one round trip.
    const announce = inline
      ? { channel: c.channel, message: encodeBusMessage(c.id, { k: [fullKey] }) }
      : undefined;
    const opts = { ttlMs, tags: tagKeys, unlock: w.unlock, publish: announce };
    const done = await guard.run('commit', key, (d) =>
      d.commit ? d.commit(fullKey, raw, opts) : Promise.reject(unsupported(d, 'commit')),
    );
    failed = done === FAILED;
    released = !failed && w.unlock !== undefined;
  } else if (!inline) {
    // A plain SET: no script to run, no message of its own.
    const opts = tagKeys ? { ttlMs, tags: tagKeys } : { ttlMs };
    failed = (await guard.run('set', key, (d) => d.set(fullKey, raw, opts))) === FAILED;
  } else {
    const opts = tagKeys ? { ttlMs, tags: tagKeys } : { ttlMs };
    const done = await Promise.all([
      guard.run('set', key, (d) => d.set(fullKey, raw, opts)),
      publish(c, guard, { k: [fullKey] }),
    ]);
    failed = done.includes(FAILED);
  }
  if (!failed && !inline) announcer?.add(fullKey);
  // Redis (or another instance's L1) may still hold the value this one replaces.
  if (failed) c.journal.key(fullKey);
  // When this very write found Redis gone, the degrade flushed L1; the value just written is
  // still the newest this instance knows, so `set` keeps it in L1 as promised.
  if (!guard.up && !c.invalidations.keyChangedSince(fullKey, epoch)) {
    c.storeL1(fullKey, e, w.graceMs, tagKeys, w.l1TtlMs);
  }
  return released;
}

/** `delete`: L1 now, L2 and the other instances next, the journal when L2 is out. */
export async function deleteKey<P extends string>(
  c: TwoTierCache<P>,
  key: string,
): Promise<boolean> {
  const fullKey = c.key(key);
  c.invalidations.mark(fullKey);
  const inL1 = c.l1?.delete(fullKey) ?? false;
  const guard = c.guard;
  if (!guard?.writable) {
    if (guard) c.journal.key(fullKey);
    return inL1;
  }
  const [inL2, sent] = await Promise.all([
    guard.run('delete', key, (d) => d.delete(fullKey)),
    publish(c, guard, { k: [fullKey] }),
  ]);
  if (inL2 === FAILED || sent === FAILED) c.journal.key(fullKey);
  return inL1 || inL2 === true;
}

/** `deleteByTag`, likewise. */
export async function deleteTag<P extends string>(c: TwoTierCache<P>, tag: string): Promise<void> {
  const tagKey = c.tagKey(tag);
  const local = c.l1?.deleteByTag(tagKey) ?? [];
  for (const k of local) c.invalidations.mark(k);
  const guard = c.guard;
  if (!guard?.writable) {
    if (guard) c.journal.tag(tagKey);
    return;
  }
  if (!guard.driver.deleteByTag) {
    c.emitter.emit('error', {
      operation: 'deleteByTag',
      error: unsupported(guard.driver, 'deleteByTag', "only this instance's L1 was cleared"),
    });
    return;
  }
  const keys = await guard.run('deleteByTag', undefined, (d) =>
    d.deleteByTag ? d.deleteByTag(tagKey) : Promise.resolve([]),
  );
  if (keys === FAILED) c.journal.tag(tagKey);
  const all = new Set([...local, ...(keys === FAILED ? [] : keys)]);
  if (all.size > 0) await publish(c, guard, { k: [...all] });
}

/** `clear` of this cache's prefix, likewise. */
export async function clearPrefix<P extends string>(c: TwoTierCache<P>): Promise<void> {
  c.l1?.clear(c.prefix);
  c.invalidations.markAll();
  const guard = c.guard;
  if (!guard?.writable) {
    if (guard) c.journal.clear(c.prefix);
    return;
  }
  const done = await Promise.all([
    guard.run('clear', undefined, (d) => d.clear(c.prefix)),
    publish(c, guard, { c: c.prefix }),
  ]);
  if (done.includes(FAILED)) c.journal.clear(c.prefix);
}

/** Publishes an invalidation, when this cache publishes at all. */
function publish<P extends string>(
  c: TwoTierCache<P>,
  guard: L2Guard,
  msg: { k?: string[]; c?: string },
): Promise<unknown> {
  if (!c.publishing) return Promise.resolve();
  const text = encodeBusMessage(c.id, msg);
  return guard.run('publish', undefined, (d) => d.publish?.(c.channel, text) ?? Promise.resolve());
}
