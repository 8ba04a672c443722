import { randomInt, randomUUID } from 'node:crypto';
import { abortReason, type Clock, isOrgError, sleep, withTimeout } from '@org/core';
import { reseal, type SealKeys } from './at-rest.js';
import { KeyRotationError, KeyRotationErrorCode } from './errors.js';
import type { KeyStore, RingState } from './key-store.js';
import { merge, tidy } from './ring-state.js';
import { RingView } from './ring-view.js';

const MAX_WRITE_ATTEMPTS = 20;
const STORE_HINT = 'check the key store, or raise storeTimeout';

/**
 * The first version of a ring written to an empty store is drawn below this: a billion starting
 * points, and room for a billion writes after them in a signed 32-bit column (the README's SQL).
 */
const FIRST_VERSION_RANGE = 2 ** 30;

/**
 * Whether the stored ring is not the one `ours` came from: it went back in time, or it is of
 * another lineage (the store lost its data and another instance wrote a fresh ring into it).
 */
function replaced(stored: RingState | undefined, ours: RingState): boolean {
  if (stored === undefined || stored.version < ours.version) return true;
  return (
    stored.lineage !== undefined && ours.lineage !== undefined && stored.lineage !== ours.lineage
  );
}

/** Keeps this process's {@link RingView} in step with a {@link KeyStore}. */
export interface StoreSync {
  /** The latest view; throws when the ring has never loaded. */
  view(): RingView;
  /** The latest view, if any. */
  peek(): RingView | undefined;
  /** Reads the store (when its version moved) and applies it; concurrent calls share one read. */
  refresh(signal?: AbortSignal): Promise<void>;
  /** Load → transform → compare-and-set, retried on conflict. `fn` returns undefined for no change. */
  mutate(
    fn: (state: RingState, now: number) => Promise<RingState | undefined>,
    signal?: AbortSignal,
  ): Promise<void>;
}

export function createStoreSync(
  store: KeyStore,
  seal: SealKeys,
  clock: Clock,
  timeoutMs: number,
  graceMs: number,
  onChange: (version: number) => void,
): StoreSync {
  let view: RingView | undefined;
  // The read under way, shared by concurrent refreshes; `waiting` counts the callers that may
  // still await it, so that it stops (and its store timer ends) once every one of them aborted.
  let refreshing: { done: Promise<void>; waiting: number; stop: AbortController } | undefined;

  // Each store call is bounded by `storeTimeout` (core's TimeoutError) and by the caller's signal
  // (core's AbortedError); what the store itself throws becomes ERR_KEY_ROTATION_STORE.
  const call = <T>(what: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> =>
    withTimeout(
      () =>
        new Promise<T>((resolve) => resolve(fn())).catch((cause: unknown) => {
          if (isOrgError(cause)) throw cause;
          throw new KeyRotationError(
            KeyRotationErrorCode.Store,
            `the key store failed to ${what}; see the cause`,
            { cause },
          );
        }),
      { timeoutMs, signal, what: `The key store call (${what})`, hint: STORE_HINT },
    );

  function apply(state: RingState, force = false): void {
    if (view && state.version <= view.version && !force) return;
    view = new RingView(state, seal, view);
    onChange(state.version);
  }

  async function load(signal?: AbortSignal): Promise<void> {
    const state = await call('load', () => store.load(), signal);
    const ours = view?.state;
    if (ours && replaced(state, ours)) {
      // The store lost its data: write back what only we hold into what it has now, then follow it.
      await mutate(
        (stored, now) => Promise.resolve(merge(stored, ours, now, graceMs)),
        signal,
        true,
      );
      return;
    }
    if (state) apply(state);
  }

  async function mutate(
    fn: (state: RingState, now: number) => Promise<RingState | undefined>,
    signal?: AbortSignal,
    force = false,
  ): Promise<void> {
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      const current = (await call('load', () => store.load(), signal)) ?? { version: 0, keys: [] };
      const now = clock.now();
      const next = await fn(tidy(current, now), now);
      if (next === undefined) return apply(current, force);
      // A fresh ring starts at a random version: after a data loss, the version the cheap
      // `version()` poll compares is then almost surely not one a running instance still holds.
      next.version =
        current.version === 0 ? randomInt(1, FIRST_VERSION_RANGE) : current.version + 1;
      next.lineage = current.lineage ?? randomUUID();
      // Move material sealed under an older encryption key to the current one.
      next.keys = next.keys.map((k) =>
        k.material === undefined ? k : { ...k, material: reseal(seal, k.kid, k.material) },
      );
      const written = await call('write', () => store.compareAndSet(current.version, next), signal);
      if (written) return apply(next, force);
      // Another instance wrote first: back off a little, then redo the change on its state.
      await sleep(randomInt(5, 25 + attempt * 10), signal);
    }
    throw new KeyRotationError(
      KeyRotationErrorCode.Store,
      'gave up writing the key ring after repeated conflicts with other instances',
    );
  }

  return {
    view() {
      if (!view)
        throw new KeyRotationError(KeyRotationErrorCode.NoActiveKey, 'the ring has no keys');
      return view;
    },
    peek: () => view,
    refresh(signal) {
      if (signal?.aborted) return Promise.reject(abortReason(signal, 'The key store refresh'));
      if (!refreshing) {
        const stop = new AbortController();
        const entry = { waiting: 0, stop, done: Promise.resolve() };
        entry.done = (async () => {
          try {
            if (store.version && view) {
              const version = await call('read its version', () => store.version!(), stop.signal);
              if (version === view.version) return;
            }
            await load(stop.signal);
          } finally {
            if (refreshing === entry) refreshing = undefined;
          }
        })();
        // A read every caller gave up on settles unseen.
        entry.done.catch(() => undefined);
        refreshing = entry;
      }
      const entry = refreshing;
      entry.waiting++;
      const leave = () => {
        entry.waiting--;
        if (entry.waiting === 0) {
          if (refreshing === entry) refreshing = undefined;
          entry.stop.abort(signal?.reason);
        }
      };
      signal?.addEventListener('abort', leave, { once: true });
      return withTimeout(() => entry.done, {
        timeoutMs: timeoutMs * 2,
        signal,
        what: 'The key store refresh',
        hint: STORE_HINT,
      }).finally(() => signal?.removeEventListener('abort', leave));
    },
    mutate: (fn, signal) => mutate(fn, signal),
  };
}
