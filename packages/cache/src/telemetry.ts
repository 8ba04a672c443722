/**
 * The cache's OpenTelemetry instruments and spans (recorded only when the app registers an SDK;
 * see `createTelemetry` in @org/core). Attributes are the cache's root namespace (the app's own,
 * bounded set; never a `withNamespace` view, which may be per tenant), the operation, the result,
 * the tier, the driver and the error code: never a key or a tag.
 *
 * Cost with no SDK: `get` and `getOrSet` test `telemetry.enabled()` once per call and take the
 * plain path; the L2 call they make is then not checked again.
 */
import {
  createTelemetry,
  DURATION_BOUNDARIES,
  errorType,
  type TelemetryAttributes,
} from '@org/core';
import { backendError } from './errors.js';
import type { CacheTier } from './events.js';
import type { FAILED } from './l2-guard.js';

export const telemetry = createTelemetry(
  { name: '@org/cache' },
  {
    requests: {
      kind: 'counter',
      name: 'org.cache.requests',
      unit: '{request}',
      description:
        'Calls of get() and getOrSet(), by result (hit, miss, stale) and the tier that answered.',
    },
    duration: {
      kind: 'histogram',
      name: 'org.cache.operation.duration',
      unit: 's',
      description:
        'Duration of cache calls other than L1 hits (a getOrSet miss includes its loader), by operation.',
      boundaries: DURATION_BOUNDARIES,
    },
    loads: {
      kind: 'counter',
      name: 'org.cache.loads',
      unit: '{load}',
      description: 'Runs of a getOrSet loader, by outcome (success, failure) and error code.',
    },
    loadDuration: {
      kind: 'histogram',
      name: 'org.cache.load.duration',
      unit: 's',
      description: 'Duration of getOrSet loader runs.',
      boundaries: DURATION_BOUNDARIES,
    },
    l2Duration: {
      kind: 'histogram',
      name: 'org.cache.l2.duration',
      unit: 's',
      description: 'Duration of calls to L2 (Redis), by operation, driver and error code.',
      boundaries: DURATION_BOUNDARIES,
    },
    l2Errors: {
      kind: 'counter',
      name: 'org.cache.l2.errors',
      unit: '{error}',
      description: 'L2 calls that failed or timed out (the cache call went on), by error code.',
    },
    fallbacks: {
      kind: 'counter',
      name: 'org.cache.l2.fallbacks',
      unit: '{fallback}',
      description:
        'Times L2 was marked degraded and skipped (L1 and loaders only), by the error that did it.',
    },
    l1Entries: {
      kind: 'observableGauge',
      name: 'org.cache.l1.entries',
      unit: '{entry}',
      description: 'Entries in the in-process L1 of each live cache, observed at each collection.',
    },
  },
);

export type CacheOperation = 'get' | 'getOrSet' | 'set' | 'delete' | 'deleteByTag' | 'clear';
export type LookupResult = 'hit' | 'miss' | 'stale';

/**
 * What a lookup answered with, filled in by `get` and `getOrSet` on the instrumented path: the
 * tier that answered (none: a miss) and whether the value was stale.
 */
export interface Outcome {
  tier: CacheTier | undefined;
  stale: boolean;
}

/** What the cache's record sites need: its attribute sets, built once per root cache. */
export interface CacheMeter {
  readonly base: TelemetryAttributes;
  /** `requests` attributes by operation, result and tier (`''` for a miss). */
  readonly lookups: Map<string, TelemetryAttributes>;
}

/** The attribute sets of a cache whose root namespace is `namespace`. */
export function cacheMeter(namespace: string): CacheMeter {
  const base = { 'org.cache.namespace': namespace };
  const lookups = new Map<string, TelemetryAttributes>();
  for (const operation of ['get', 'getOrSet'])
    for (const [result, tier] of [
      ['hit', 'l1'],
      ['hit', 'l2'],
      ['stale', 'l1'],
      ['stale', 'l2'],
      ['miss', ''],
    ] as const) {
      const a: TelemetryAttributes = {
        ...base,
        'org.cache.operation': operation,
        'org.cache.result': result,
      };
      if (tier !== '') a['org.cache.tier'] = tier;
      lookups.set(`${operation}:${result}:${tier}`, Object.freeze(a) as TelemetryAttributes);
    }
  return { base: Object.freeze(base), lookups };
}

/** The part of a cache the record sites read. */
interface Recorded {
  readonly meter: CacheMeter;
}

/**
 * Reports the entry count of a root cache's L1 at each collection, under its root namespace (a
 * `withNamespace` view shares it and adds nothing). `l1` is held weakly: a cache the app drops
 * leaves with it. Returns the function `close()` calls. Nothing runs on the cache's calls.
 */
export function observeL1(l1: { readonly size: number }, meter: CacheMeter): () => void {
  const base = meter.base;
  return telemetry.addCallback('l1Entries', l1, (store, result) =>
    result.observe(store.size, base),
  );
}

/**
 * Runs a `get` or `getOrSet` that fills in `out`, then counts it by result and tier and records
 * its duration (call it only after `telemetry.enabled()`). No span: an L1 hit waits on nothing,
 * and the L2 calls and the loader get their own.
 */
export function observeLookup<T>(
  c: Recorded,
  operation: 'get' | 'getOrSet',
  fn: (out: Outcome) => Promise<T>,
): Promise<T> {
  const m = telemetry.metrics();
  const out: Outcome = { tier: undefined, stale: false };
  if (m === undefined) return fn(out);
  const start = performance.now();
  const record = (failed: boolean, error: unknown) => {
    const result: LookupResult = out.tier === undefined ? 'miss' : out.stale ? 'stale' : 'hit';
    const attributes = c.meter.lookups.get(`${operation}:${result}:${out.tier ?? ''}`);
    if (attributes === undefined) return;
    const seconds = (performance.now() - start) / 1000;
    if (!failed) {
      m.requests.add(1, attributes);
      // An L1 hit takes microseconds, under the first bucket: counted, not timed (a record
      // would double what telemetry costs the hottest path).
      if (out.tier !== 'l1' || out.stale) m.duration.record(seconds, attributes);
    } else {
      // An abort or a loader's own error: the call did not answer, so it is no request result.
      m.duration.record(seconds, { ...attributes, 'error.type': errorType(error) });
    }
  };
  return settled(fn(out), record);
}

/** `pending`, with `record` called once it settles (`failed` and the error when it rejects). */
function settled<T>(
  pending: Promise<T>,
  record: (failed: boolean, err: unknown) => void,
): Promise<T> {
  return pending.then(
    (value) => {
      record(false, undefined);
      return value;
    },
    (err: unknown) => {
      record(true, err);
      throw err;
    },
  );
}

/** Runs a write (`set`, `delete` …) and records its duration; a plain call with no SDK. */
export function observeWrite<T>(
  c: Recorded,
  operation: CacheOperation,
  fn: () => Promise<T>,
): Promise<T> {
  const m = telemetry.metrics();
  if (m === undefined) return fn();
  const start = performance.now();
  const record = (failed: boolean, err: unknown) => {
    const attributes: TelemetryAttributes = { ...c.meter.base, 'org.cache.operation': operation };
    if (failed) attributes['error.type'] = errorType(err);
    m.duration.record((performance.now() - start) / 1000, attributes);
  };
  return settled(fn(), record);
}

/** Runs `health()`'s ping of L2 in a client span `cache l2 ping` with whether L2 answered. */
export function observePing(driver: string, ping: () => Promise<boolean>): Promise<boolean> {
  if (!telemetry.tracing()) return ping();
  const attributes: TelemetryAttributes = {
    'org.cache.driver': driver,
    'org.cache.operation': 'ping',
  };
  if (driver === 'redis') attributes['db.system.name'] = 'redis';
  return telemetry.withSpan(
    'cache l2 ping',
    attributes,
    async (span) => {
      const available = await ping();
      span?.setAttribute('org.cache.l2.available', available);
      return available;
    },
    { kind: 'client' },
  );
}

/**
 * Runs one L2 call in a client span `cache l2 <operation>` (a child of the caller's) and records
 * its duration. `run` resolves `FAILED` when L2 failed or timed out, after handing the error to
 * its `report` argument: the span and the histogram record it with its code, and this resolves
 * `FAILED` as the guard does.
 */
export function observeL2<T>(
  driver: string,
  operation: string,
  failed: typeof FAILED,
  run: (report: (error: unknown) => void) => Promise<T | typeof FAILED>,
): Promise<T | typeof FAILED> {
  const attributes: TelemetryAttributes = {
    'org.cache.driver': driver,
    'org.cache.operation': operation,
  };
  if (driver === 'redis') attributes['db.system.name'] = 'redis';
  let error: unknown;
  const report = (e: unknown) => {
    error = e;
  };
  return telemetry
    .observe(
      `cache l2 ${operation}`,
      attributes,
      async () => {
        const r = await run(report);
        if (r === failed) throw error ?? backendError(operation, undefined);
        return r;
      },
      (m, seconds, err) =>
        m.l2Duration.record(
          seconds,
          err === undefined ? attributes : { ...attributes, 'error.type': errorType(err) },
        ),
      { kind: 'client' },
    )
    .catch(() => failed);
}

/**
 * Runs a getOrSet loader in an internal span `cache load` (so that the loader's own spans, a
 * database query say, nest under it) and counts it by outcome, with its duration.
 */
export function observeLoad<T>(c: Recorded, fn: () => Promise<T>): Promise<T> {
  if (!telemetry.enabled()) return fn();
  return telemetry.observe('cache load', c.meter.base, fn, (m, seconds, err) => {
    const attributes: TelemetryAttributes = { ...c.meter.base };
    if (err === undefined) attributes['org.cache.outcome'] = 'success';
    else {
      attributes['org.cache.outcome'] = 'failure';
      attributes['error.type'] = errorType(err);
    }
    m.loads.add(1, attributes);
    m.loadDuration.record(seconds, attributes);
  });
}

/** Counts one failed or timed-out L2 call. */
export function recordL2Error(driver: string, operation: string, err: unknown): void {
  telemetry.metrics()?.l2Errors.add(1, {
    'org.cache.driver': driver,
    'org.cache.operation': operation,
    'error.type': errorType(err),
  });
}

/** Counts one switch of L2 to degraded. */
export function recordFallback(c: Recorded, driver: string, err: unknown): void {
  const m = telemetry.metrics();
  if (m === undefined) return;
  m.fallbacks.add(1, { ...c.meter.base, 'org.cache.driver': driver, 'error.type': errorType(err) });
}
