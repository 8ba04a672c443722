import { randomUUID } from 'node:crypto';
import { abortable, withTimeout } from '@org/core';
import type { TwoTierCache } from './cache.js';
import { decodeEntry, type Entry } from './envelope.js';
import { notAnEntry, unsupported } from './errors.js';
import { cloneDecoded, deepFreeze, TOO_DEEP } from './json-clone.js';
import { FAILED, type L2Guard } from './l2-guard.js';
import { jsonSerializer } from './serializer.js';
import { type Loaded, napOrWake } from './single-flight.js';
import { type Outcome, observeLoad } from './telemetry.js';
import type { GetOrSetOptions, LoaderContext } from './types.js';

type Loader<T> = (ctx: LoaderContext) => T | Promise<T>;

/** A value past its TTL but within grace, and where it was found. */
interface Stale {
  entry: Entry;
  tier: 'l1' | 'l2';
}

const POLL_MS = 50;

/**
 * `getOrSet`: L1, then one shared load per key and process (single flight), which reads L2, then
 * takes the cross-instance lock or waits for its holder's value, then runs the loader. Backend
 * trouble at any step only skips that step; only the loader's own error can reject, and not even
 * that when a stale value within grace is at hand.
 */
export async function loadShared<T, P extends string>(
  c: TwoTierCache<P>,
  key: string,
  loader: Loader<T>,
  options: GetOrSetOptions<P> | undefined,
  out: Outcome | undefined,
): Promise<T> {
  const fullKey = c.key(key);
  const graceMs = c.graceOf(options);
  c.l1TtlOf(options); // validates a per-call `memory` before any hit can skip it
  let stale: Stale | undefined;
  const hit = c.l1?.get(fullKey);
  if (hit !== undefined) {
    const now = c.clock.now();
    if (hit.expiresAt > now) {
      c.emitHit(key, 'l1', false);
      if (out !== undefined) out.tier = 'l1';
      maybeRefresh(c, fullKey, key, hit, loader, options, graceMs);
      return c.decode<T>(hit.payload);
    }
    if (now - hit.expiresAt <= graceMs) stale = { entry: hit, tier: 'l1' };
  }
  let flight = c.inflight.get(fullKey);
  if (flight === undefined) {
    const f = load(c, fullKey, key, loader, options, stale, graceMs);
    const done = () => {
      if (c.inflight.get(fullKey) === f) c.inflight.delete(fullKey);
    };
    f.then(done, done);
    c.inflight.set(fullKey, f);
    flight = f;
  }
  const loaded = await abortable(flight, options?.signal);
  if (out !== undefined) {
    out.tier = loaded.tier;
    out.stale = loaded.stale;
  }
  // An L2 hit may fall in the refresh window too (after a lost race for L1, say).
  if (loaded.entry) maybeRefresh(c, fullKey, key, loaded.entry, loader, options, graceMs);
  try {
    return resultOf<T, P>(c, loaded);
  } catch (err) {
    // Unreadable bytes in L2 (another writer, a changed serializer): report, reload, overwrite.
    c.reportCorrupt(key, err);
    if (out !== undefined) {
      out.tier = undefined;
      out.stale = false;
    }
    c.l1?.delete(fullKey);
    const fixed = await runLoader(c, fullKey, key, loader, options, undefined, graceMs, undefined);
    return c.decode<T>(fixed.payload);
  }
}

/**
 * The caller's own copy of a shared load's value. With the default serializer the payload is
 * parsed once per load and each caller gets a copy of the parsed value (100 callers of a cold key
 * cost one parse and 100 cheap copies, not 100 parses); another serializer decodes per caller.
 * With `sharedResults` every caller gets the same deep-frozen value.
 */
function resultOf<T, P extends string>(c: TwoTierCache<P>, loaded: Loaded): T {
  if (c.sharedResults) {
    // Opted in: one deep-frozen value for every caller of this load, no copy each.
    loaded.decoded ??= { value: deepFreeze(c.decode(loaded.payload)) };
    return loaded.decoded.value as T;
  }
  if (c.serializer !== jsonSerializer) return c.decode<T>(loaded.payload);
  loaded.decoded ??= { value: c.decode(loaded.payload) };
  const copy = cloneDecoded(loaded.decoded.value);
  return (copy === TOO_DEEP ? c.decode<T>(loaded.payload) : copy) as T;
}

/** The entry in `raw` when it decodes; reports an unreadable one. */
function readEntry<P extends string>(c: TwoTierCache<P>, key: string, raw: unknown) {
  if (typeof raw !== 'string') return undefined;
  const e = decodeEntry(raw);
  if (e === undefined) c.reportCorrupt(key, notAnEntry());
  return e;
}

async function load<T, P extends string>(
  c: TwoTierCache<P>,
  fullKey: string,
  key: string,
  loader: Loader<T>,
  options: GetOrSetOptions<P> | undefined,
  l1Stale: Stale | undefined,
  graceMs: number,
): Promise<Loaded> {
  let stale = l1Stale;
  const guard = c.guard;
  if (!guard?.up) {
    c.emitMiss(key);
    return runLoader(c, fullKey, key, loader, options, stale, graceMs, undefined);
  }
  const l1TtlMs = c.l1TtlOf(options);
  const lockKey = c.lockKey(fullKey);
  const epoch = c.invalidations.epoch;
  let raw: unknown;
  let token: string | undefined;
  let got: boolean | typeof FAILED | undefined;
  const locking = c.crossInstanceLock;
  if (locking && guard.driver.getOrLock) {
    // One round trip: the value, or the lock when there is none (a cold key).
    const t = randomUUID();
    const r = await guard.run('getOrLock', key, (d) =>
      d.getOrLock
        ? d.getOrLock(fullKey, lockKey, t, c.timeouts.lock)
        : Promise.reject(unsupported(d, 'getOrLock')),
    );
    if (r === FAILED) raw = FAILED;
    else if (r.value !== undefined) raw = r.value;
    else {
      token = t;
      got = r.locked;
    }
  } else {
    raw = await guard.run('get', key, (d) => d.get(fullKey));
  }
  const e = readEntry(c, key, raw);
  if (e !== undefined) {
    const now = c.clock.now();
    if (e.expiresAt > now) {
      c.fillL1(fullKey, e, epoch, l1TtlMs);
      c.emitHit(key, 'l2', false);
      return { payload: e.payload, stale: false, entry: e, tier: 'l2' };
    }
    if (stale === undefined && now - e.expiresAt <= graceMs) stale = { entry: e, tier: 'l2' };
  }
  // Only a load takes the lock (never a hit), so that a hit never makes another instance wait
  // or skip its refresh.
  if (locking && got === undefined && raw !== FAILED && guard.driver.lock !== undefined) {
    // A value that is stale (or unreadable) is there: lock and re-read in the same round trip,
    // since a holder that finished between the first read and now must not make this instance
    // load again.
    token = randomUUID();
    const t = token;
    const again = c.invalidations.epoch;
    const [locked, reread] = await Promise.all([
      guard.run(
        'lock',
        key,
        (d) => d.lock?.(lockKey, t, c.timeouts.lock) ?? Promise.resolve(false),
      ),
      guard.run('get', key, (d) => d.get(fullKey)),
    ]);
    got = locked;
    const fresh = readEntry(c, key, reread);
    if (fresh !== undefined && fresh.expiresAt > c.clock.now()) {
      if (got === true) release(guard, key, lockKey, t);
      c.fillL1(fullKey, fresh, again, l1TtlMs);
      c.emitHit(key, 'l2', false);
      return { payload: fresh.payload, stale: false, entry: fresh, tier: 'l2' };
    }
  }
  c.emitMiss(key);
  if (got === false) {
    const afterWait = waitForHolder(c, guard, fullKey, key, lockKey, l1TtlMs).then((waited) =>
      waited.loaded
        ? waited.loaded
        : runLoader(c, fullKey, key, loader, options, stale, graceMs, waited.token),
    );
    // Another instance is loading: with a stale value at hand, the soft timeout applies to
    // the wait as well, and the wait (maybe ending in a load of its own) goes on behind it.
    return softly(c, key, afterWait, stale, c.softOf(options));
  }
  return runLoader(
    c,
    fullKey,
    key,
    loader,
    options,
    stale,
    graceMs,
    got === true ? token : undefined,
  );
}

/**
 * `work`, or, when a stale value is at hand: that value if `work` fails, or once `soft` ms have
 * passed (`work` goes on in the background).
 */
function softly<P extends string>(
  c: TwoTierCache<P>,
  key: string,
  work: Promise<Loaded>,
  stale: Stale | undefined,
  soft: number | undefined,
): Promise<Loaded> {
  if (stale === undefined) return work;
  const served = (): Loaded => {
    c.emitHit(key, stale.tier, true);
    return { payload: stale.entry.payload, stale: true, tier: stale.tier };
  };
  // Within grace, a failure is answered with the stale value (stale-if-error).
  const withFallback = work.catch(served);
  if (soft === undefined) return withFallback;
  let timer: NodeJS.Timeout | undefined;
  const early = new Promise<'soft'>((resolve) => {
    timer = setTimeout(() => resolve('soft'), soft);
  });
  return Promise.race([withFallback, early]).then((r) => {
    clearTimeout(timer);
    return r === 'soft' ? served() : r;
  });
}

/**
 * Another instance holds the lock: poll L2 (woken early by its invalidation message) until the
 * value lands, the lock frees (then take it), L2 fails, or `timeouts.lockWait` passes (then load
 * without the lock: a slow holder must not hold everyone).
 */
async function waitForHolder<P extends string>(
  c: TwoTierCache<P>,
  guard: L2Guard,
  fullKey: string,
  key: string,
  lockKey: string,
  l1TtlMs: number | undefined,
): Promise<{ loaded?: Loaded; token?: string }> {
  const deadline = Date.now() + c.timeouts.lockWait;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0 || !guard.up) return {};
    await napOrWake(Math.min(POLL_MS, left), (wake) => c.invalidations.onChange(fullKey, wake));
    const epoch = c.invalidations.epoch;
    const token = randomUUID();
    const [raw, got] = await Promise.all([
      guard.run('get', key, (d) => d.get(fullKey)),
      guard.run(
        'lock',
        key,
        (d) => d.lock?.(lockKey, token, c.timeouts.lock) ?? Promise.resolve(false),
      ),
    ]);
    const e = readEntry(c, key, raw);
    if (e !== undefined && e.expiresAt > c.clock.now()) {
      if (got === true) release(guard, key, lockKey, token);
      c.fillL1(fullKey, e, epoch, l1TtlMs);
      c.emitHit(key, 'l2', false);
      return { loaded: { payload: e.payload, stale: false, tier: 'l2' } };
    }
    if (got === true) return { token };
    if (raw === FAILED || got === FAILED) return {};
  }
}

function release(guard: L2Guard, key: string, lockKey: string, token: string): void {
  void guard.run('unlock', key, (d) => d.unlock?.(lockKey, token) ?? Promise.resolve(false));
}

/**
 * Runs the loader (bounded by `timeouts.hard`), stores its value in both tiers, then releases the
 * lock. With a stale value at hand it answers stale when the loader fails, and after
 * `timeouts.soft` while the loader goes on in the background.
 */
function runLoader<T, P extends string>(
  c: TwoTierCache<P>,
  fullKey: string,
  key: string,
  loader: Loader<T>,
  options: GetOrSetOptions<P> | undefined,
  stale: Stale | undefined,
  graceMs: number,
  token: string | undefined,
): Promise<Loaded> {
  const hard = c.hardOf(options);
  const soft = c.softOf(options);
  // Past `hard`, the loader's signal aborts with core's TimeoutError and this rejects with it.
  // The loader starts on a microtask, as before: never inside the caller's own stack.
  const value = observeLoad(c, () =>
    withTimeout((signal) => Promise.resolve().then(() => loader({ key, signal })), {
      timeoutMs: hard ?? false,
      what: 'The loader of getOrSet',
      hint: 'its signal was aborted. Raise `timeouts.hard` or make the loader faster',
    }),
  );
  let released = false;
  const stored = value
    .then(async (v) => {
      const e = c.entryFor(v, options);
      const unlock = token === undefined ? undefined : { key: c.lockKey(fullKey), token };
      released = await c.write(fullKey, e, {
        graceMs,
        tags: options?.tags,
        l1TtlMs: c.l1TtlOf(options),
        unlock,
      });
      return { payload: e.payload, stale: false };
    })
    .finally(() => {
      const guard = c.guard;
      if (token !== undefined && !released && guard) {
        release(guard, key, c.lockKey(fullKey), token);
      }
    });
  if (stale === undefined) return stored;
  return softly(c, key, stored, stale, soft);
}

/** Starts a background refresh when a hit is in the last `earlyRefresh` part of its TTL. */
function maybeRefresh<T, P extends string>(
  c: TwoTierCache<P>,
  fullKey: string,
  key: string,
  entry: Entry,
  loader: Loader<T>,
  options: GetOrSetOptions<P> | undefined,
  graceMs: number,
): void {
  const f = options?.earlyRefresh ?? c.earlyRefresh;
  if (f === undefined || f <= 0 || f >= 1) return;
  if (c.clock.now() < entry.expiresAt - entry.ttlMs * (1 - f) || c.inflight.has(fullKey)) return;
  const current: Loaded = { payload: entry.payload, stale: false, tier: 'l1' };
  const flight = (async (): Promise<Loaded> => {
    const guard = c.guard;
    let token: string | undefined;
    if (guard?.up && c.crossInstanceLock && guard.driver.lock) {
      token = randomUUID();
      const t = token;
      const got = await guard.run(
        'lock',
        key,
        (d) => d.lock?.(c.lockKey(fullKey), t, c.timeouts.lock) ?? Promise.resolve(false),
      );
      // Another instance is refreshing it; this one keeps serving the current value.
      if (got === false) return current;
      if (got === FAILED) token = undefined;
    }
    const noSoft = { ...options, timeouts: { ...options?.timeouts, soft: undefined } };
    return runLoader(
      c,
      fullKey,
      key,
      loader,
      noSoft,
      { entry, tier: 'l1' },
      Math.max(graceMs, 1),
      token,
    );
  })();
  const done = () => {
    if (c.inflight.get(fullKey) === flight) c.inflight.delete(fullKey);
  };
  flight.then(done, done);
  c.inflight.set(fullKey, flight);
}
