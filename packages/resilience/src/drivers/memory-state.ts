import { randomUUID } from 'node:crypto';
import { type Clock, systemClock, type Unsubscribe } from '@org/core';
import { check, invalidOption } from '../errors.js';
import type { BreakerStateStore, SharedStateEvent } from '../shared-state.js';

/** Options of `createMemoryStateStore`. */
export interface MemoryStateStoreOptions {
  /**
   * A memory store whose state this one shares, as a second instance of an app sharing one
   * Redis would. @default a state of its own
   */
  sharedWith?: MemoryStateStore | undefined;
  /** This instance's id. @default a random UUID */
  instanceId?: string | undefined;
  /** The time source of open periods and probe rights. @default systemClock */
  clock?: Clock | undefined;
}

/** A BreakerStateStore in this process's memory, and `close()` for its subscriptions. */
export interface MemoryStateStore extends BreakerStateStore {
  load(name: string): Promise<SharedStateEvent | undefined>;
  releaseProbe(name: string): Promise<void>;
  close(): Promise<void>;
}

type Listener = (event: SharedStateEvent) => void;

/** What stores made with `sharedWith` have in common. */
interface Space {
  readonly states: Map<string, { event: SharedStateEvent; until: number }>;
  readonly probes: Map<string, { owner: string; until: number }>;
  readonly members: Set<Map<string, Set<Listener>>>;
}

const spaces = new WeakMap<MemoryStateStore, Space>();

/**
 * Shares breaker state between breakers of one process (several registries, or tests of the
 * shared-state logic without Redis): it behaves as the Redis store does, with open periods and
 * probe rights that expire on the clock, and events delivered asynchronously to every store of
 * the same shared state.
 */
export function createMemoryStateStore(options: MemoryStateStoreOptions = {}): MemoryStateStore {
  check.object(options, 'createMemoryStateStore options');
  const instanceId = check.string(options.instanceId, 'instanceId') ?? randomUUID();
  const clock = options.clock ?? systemClock;
  if (typeof clock?.now !== 'function') {
    throw invalidOption('`clock` must be a Clock: an object with now().');
  }
  let space: Space | undefined;
  if (options.sharedWith !== undefined) {
    space = spaces.get(options.sharedWith);
    if (!space) throw invalidOption('`sharedWith` must be a store from createMemoryStateStore.');
  }
  space ??= { states: new Map(), probes: new Map(), members: new Set() };
  const shared = space;
  const listeners = new Map<string, Set<Listener>>();
  shared.members.add(listeners);

  const store: MemoryStateStore = {
    instanceId,
    async publish(name, event) {
      if (event.state === 'open') shared.states.set(name, { event, until: event.openUntil });
      else shared.states.delete(name);
      const copy = JSON.stringify(event);
      for (const member of shared.members) {
        const set = member.get(name);
        if (!set) continue;
        // Delivered later and as a copy, as over a network: no listener runs inside publish.
        queueMicrotask(() => {
          for (const l of [...set]) l(JSON.parse(copy) as SharedStateEvent);
        });
      }
    },
    subscribe(name, listener): Unsubscribe {
      let set = listeners.get(name);
      if (!set) {
        set = new Set();
        listeners.set(name, set);
      }
      const own = set;
      const entry: Listener = (e) => listener(e);
      own.add(entry);
      return () => {
        own.delete(entry);
      };
    },
    async load(name) {
      const held = shared.states.get(name);
      if (!held) return undefined;
      if (held.until <= clock.now()) {
        shared.states.delete(name);
        return undefined;
      }
      return JSON.parse(JSON.stringify(held.event)) as SharedStateEvent;
    },
    async acquireProbe(name, ttlMs) {
      const held = shared.probes.get(name);
      const now = clock.now();
      if (held && held.until > now) return false;
      shared.probes.set(name, { owner: instanceId, until: now + Math.max(1, Math.ceil(ttlMs)) });
      return true;
    },
    async releaseProbe(name) {
      if (shared.probes.get(name)?.owner === instanceId) shared.probes.delete(name);
    },
    async close() {
      shared.members.delete(listeners);
      for (const set of listeners.values()) set.clear();
      listeners.clear();
    },
  };
  spaces.set(store, shared);
  return store;
}
