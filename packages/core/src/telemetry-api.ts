/**
 * Where telemetry meets `@opentelemetry/api` (an optional peer). Nothing here loads the API at
 * import time: the SDK's registrations are read from the API's global registry (the object every
 * copy of the API 1.x shares under `Symbol.for('opentelemetry.js.api.1')`), and the API itself is
 * required only once a meter or tracer provider is registered there, which means an SDK, and so
 * the API, is installed. With no SDK, no module is loaded and each check is one property read.
 */
import { createRequire } from 'node:module';
import type * as OtelApi from '@opentelemetry/api';

/** The part of the API's global registry read here. */
interface GlobalRegistry {
  version?: string;
  metrics?: object;
  trace?: object;
}

const REGISTRY_KEY = Symbol.for('opentelemetry.js.api.1');
const HUB_KEY = Symbol.for('@org/core.telemetry.registry');

/** Where every copy of core finds the API's registry without reading `globalThis` per call. */
interface Hub {
  registry: GlobalRegistry | undefined;
  /** True when the registry's creation cannot be observed (a frozen global): read it per call. */
  poll: boolean;
  /**
   * Called after each registration once {@link onRegistration} watches them (absent on a hub an
   * older copy of core made: the first watcher adds it).
   */
  listeners?: Set<() => void>;
  /** Whether a microtask is queued to call the listeners. */
  pending?: boolean;
}

type Globals = Record<symbol, unknown>;

/**
 * The API creates its registry once, with a plain assignment to `globalThis[REGISTRY_KEY]`, on its
 * first registration, and only ever adds or deletes entries on it afterwards. Until then that key
 * is an accessor that reads `undefined` and, when assigned, turns back into the plain property the
 * API would have made and keeps the object here, so the check on a hot path reads one local
 * object's property instead of a missing global (several times slower). The hub is shared by
 * every copy of core in the process. Once an observable instrument has a source, the key stays
 * an accessor for good ({@link onRegistration}).
 */
function openHub(): Hub {
  const g = globalThis as unknown as Globals;
  const shared = g[HUB_KEY] as Hub | undefined;
  if (shared !== undefined) return shared;
  const hub: Hub = { registry: g[REGISTRY_KEY] as GlobalRegistry | undefined, poll: false };
  try {
    Object.defineProperty(g, HUB_KEY, { value: hub });
    if (hub.registry === undefined) {
      Object.defineProperty(g, REGISTRY_KEY, {
        configurable: true,
        enumerable: false,
        get: () => undefined,
        set(value: GlobalRegistry) {
          Object.defineProperty(g, REGISTRY_KEY, {
            value,
            writable: true,
            enumerable: true,
            configurable: true,
          });
          hub.registry = value;
        },
      });
    }
  } catch {
    hub.poll = true;
  }
  return hub;
}

// Opened on the first check (a package's first record), not when core is imported.
let hub: Hub | undefined;

function registry(): GlobalRegistry | undefined {
  if (hub === undefined) hub = openHub();
  const h = hub;
  if (h.poll) h.registry = (globalThis as unknown as Globals)[REGISTRY_KEY] as GlobalRegistry;
  return h.registry;
}

/**
 * Calls `listener` in a microtask after each registration of a provider through any copy of the
 * API 1.x, also one that registers the first (it creates the registry then), so that observable
 * instruments can attach to a meter provider registered after their sources were added. Every
 * registration assigns the registry to its global key (`_global[KEY] = _global[KEY] ?? {…}`) and
 * only then sets the provider on it: the key stays an accessor (reading the local object) whose
 * setter queues the call, which then sees the provider. A removal assigns nothing and is not
 * seen. Returns `false` when registrations cannot be watched (a frozen global): instruments
 * then attach on the next record, as sync ones do. The listener is kept for the process.
 */
export function onRegistration(listener: () => void): boolean {
  if (hub === undefined) hub = openHub();
  const h = hub;
  if (h.listeners === undefined) {
    if (h.poll) return false;
    h.listeners = new Set();
    if (!watchRegistrations(h)) {
      delete h.listeners;
      return false;
    }
  }
  h.listeners.add(listener);
  return true;
}

/** Makes the registry's key an accessor that notifies the hub's listeners on each assignment. */
function watchRegistrations(h: Hub): boolean {
  const g = globalThis as unknown as Globals;
  const current = g[REGISTRY_KEY] as GlobalRegistry | undefined;
  if (current !== undefined) h.registry = current;
  try {
    Object.defineProperty(g, REGISTRY_KEY, {
      configurable: true,
      enumerable: current !== undefined,
      get: () => h.registry,
      set(value: GlobalRegistry) {
        h.registry = value;
        if (h.pending || h.listeners === undefined || h.listeners.size === 0) return;
        h.pending = true;
        queueMicrotask(() => {
          h.pending = false;
          for (const listener of h.listeners ?? []) {
            try {
              listener();
            } catch {
              // A listener's failure must not reach the app that registered an SDK.
            }
          }
        });
      },
    });
    return true;
  } catch {
    return false;
  }
}

/** The meter provider registered in the global registry, if any (not yet checked for version). */
export function registeredMeterProvider(): object | undefined {
  return registry()?.metrics;
}

/** The tracer provider registered in the global registry, if any (not yet checked for version). */
export function registeredTracerProvider(): object | undefined {
  return registry()?.trace;
}

let api: typeof OtelApi | null | undefined;

/**
 * `@opentelemetry/api`, required on first need; `undefined` when it cannot be resolved from here
 * (then telemetry stays off, with one process warning saying why).
 */
export function otelApi(): typeof OtelApi | undefined {
  if (api !== undefined) return api ?? undefined;
  try {
    // Resolved from this file in either build: the CJS build has `__filename`, the ESM build
    // `import.meta.url`. (Never `typeof require`: the ESM build's bundler turns it into a shim
    // that is always a function and throws when called.) A static import would make the API a
    // hard dependency of every entry that imports core.
    const load = createRequire(typeof __filename === 'string' ? __filename : import.meta.url);
    api = load('@opentelemetry/api') as typeof OtelApi;
  } catch {
    api = null;
    process.emitWarning(
      'An OpenTelemetry SDK is registered but @opentelemetry/api cannot be resolved from @org/core: install @opentelemetry/api next to it to record the SDK’s metrics and spans.',
      { code: 'ORG_TELEMETRY_NO_API' },
    );
  }
  return api ?? undefined;
}
