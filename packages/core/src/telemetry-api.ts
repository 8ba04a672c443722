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
const globals = globalThis as unknown as Record<symbol, GlobalRegistry | undefined>;
// The API creates the registry once and only ever adds or deletes its entries, so once found it
// is kept: the check on a hot path is then a read of one local object's property.
let registry: GlobalRegistry | undefined;

function currentRegistry(): GlobalRegistry | undefined {
  const found = globals[REGISTRY_KEY];
  if (found !== registry) registry = found;
  return found;
}

/** The meter provider registered in the global registry, if any (not yet checked for version). */
export function registeredMeterProvider(): object | undefined {
  return (registry ?? currentRegistry())?.metrics;
}

/** The tracer provider registered in the global registry, if any (not yet checked for version). */
export function registeredTracerProvider(): object | undefined {
  return (registry ?? currentRegistry())?.trace;
}

let api: typeof OtelApi | null | undefined;

/**
 * `@opentelemetry/api`, required on first need; `undefined` when it cannot be resolved from here
 * (then telemetry stays off, with one process warning saying why).
 */
export function otelApi(): typeof OtelApi | undefined {
  if (api !== undefined) return api ?? undefined;
  try {
    // The CJS build has `require`; the ESM build makes one. A static import would make the API a
    // hard dependency of every entry that imports core.
    const load = typeof require === 'function' ? require : createRequire(import.meta.url);
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
