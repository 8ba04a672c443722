import type { BreakerState } from './circuit-state.js';

/** What the registry knows of a breaker: enough for health checks, alerts and `close()`. */
export interface RegisteredBreaker {
  readonly name: string;
  readonly state: BreakerState;
  stats(): object;
  /** Releases the breaker (and so removes it from its registry). */
  close(): Promise<void>;
}

/**
 * Every live breaker of the process, by name. A registry holds its breakers weakly: a breaker
 * the app no longer references is garbage-collected and leaves the registry on its own, so
 * breakers made per tenant or per request and never closed do not pile up. Keep a reference to a
 * breaker for as long as it should be found with `get(name)`.
 */
export interface BreakerRegistry {
  get(name: string): RegisteredBreaker | undefined;
  list(): RegisteredBreaker[];
  /** Adds (or replaces) a breaker under its name; returns a function that removes it. */
  register(breaker: RegisteredBreaker): () => void;
  /**
   * Releases every breaker the registry holds (each leaves it), as at the end of a test or of
   * the process. The registry stays usable: breakers made later join it. Never throws.
   */
  close(): Promise<void>;
}

/** Creates an empty registry (for tests, or to keep a group of breakers apart). */
export function createRegistry(): BreakerRegistry {
  const map = new Map<string, WeakRef<RegisteredBreaker>>();
  // A collected breaker's entry is removed, unless its name went to a newer breaker meanwhile.
  const gone = new FinalizationRegistry<{ name: string; ref: WeakRef<RegisteredBreaker> }>(
    ({ name, ref }) => {
      if (map.get(name) === ref) map.delete(name);
    },
  );
  const live = (): RegisteredBreaker[] => {
    const out: RegisteredBreaker[] = [];
    for (const [name, ref] of map) {
      const b = ref.deref();
      if (b === undefined) map.delete(name);
      else out.push(b);
    }
    return out;
  };
  return {
    get: (name) => map.get(name)?.deref(),
    list: live,
    register(breaker) {
      const ref = new WeakRef(breaker);
      map.set(breaker.name, ref);
      gone.register(breaker, { name: breaker.name, ref }, ref);
      return () => {
        if (map.get(breaker.name) === ref) map.delete(breaker.name);
        gone.unregister(ref);
      };
    },
    async close() {
      const all = live();
      map.clear();
      await Promise.allSettled(all.map(async (b) => b.close()));
    },
  };
}

const KEY = Symbol.for('@org/resilience.registry');
const holder = globalThis as { [KEY]?: BreakerRegistry };

/**
 * The process-wide registry every breaker joins by default. It lives on `globalThis` under a
 * `Symbol.for` key, so two copies of this package (CJS and ESM, or two versions) share it.
 */
holder[KEY] ??= createRegistry();
// A registry made by an older copy of this package has no close(): give it one over its list.
holder[KEY].close ??= async () => {
  const held = holder[KEY] as BreakerRegistry;
  await Promise.allSettled(held.list().map(async (b) => b.close?.()));
};
export const breakers: BreakerRegistry = holder[KEY];
