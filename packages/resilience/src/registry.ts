import type { BreakerState } from './circuit-state.js';

/** What the registry knows of a breaker: enough for health checks, alerts and `close()`. */
export interface RegisteredBreaker {
  readonly name: string;
  readonly state: BreakerState;
  stats(): object;
  /** Releases the breaker (and so removes it from its registry). */
  close(): Promise<void>;
}

/** Every live breaker of the process, by name. */
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
  const map = new Map<string, RegisteredBreaker>();
  return {
    get: (name) => map.get(name),
    list: () => [...map.values()],
    register(breaker) {
      map.set(breaker.name, breaker);
      return () => {
        if (map.get(breaker.name) === breaker) map.delete(breaker.name);
      };
    },
    async close() {
      const all = [...map.values()];
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
