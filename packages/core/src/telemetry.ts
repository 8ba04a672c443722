/**
 * Metrics and spans on `@opentelemetry/api`, an optional peer: when the app registers no
 * OpenTelemetry SDK nothing is recorded and nothing is loaded, and each record site costs one
 * check. An SDK registered after the packages were imported is picked up on the next call.
 *
 * A package declares its instruments once, at module level, and records through them:
 *
 *   // src/telemetry.ts
 *   export const telemetry = createTelemetry({ name: '@org/cache', version: VERSION }, {
 *     hits: { kind: 'counter', name: 'org.cache.hits', unit: '{hit}', description: 'Cache hits.' },
 *     duration: { kind: 'histogram', name: 'org.cache.operation.duration', unit: 's',
 *       description: 'Duration of cache operations.', boundaries: DURATION_BOUNDARIES },
 *   });
 *
 *   // where the operation happens
 *   telemetry.metrics()?.hits.add(1, { 'org.cache.tier': tier });       // attributes built only when on
 *   await telemetry.withSpan('org.cache.get', { 'org.cache.driver': 'redis' }, (span) => get(key));
 *   await telemetry.observe('org.cache.get', attrs, () => get(key), (m, seconds, err) =>
 *     m.duration.record(seconds, err === undefined ? attrs : { ...attrs, 'error.type': errorType(err) }));
 *
 * On a hot path, test `telemetry.enabled()` (or `metrics()`) before building attributes: with no
 * SDK the whole cost is then that one check.
 *
 * A value that is a state rather than an event (a size, a breaker's state, the age of the last
 * good backup) is an observable instrument, read at each collection: the object adds a source
 * when it is made and removes it when it is closed.
 *
 *   entries: { kind: 'observableGauge', name: 'org.cache.l1.entries', unit: '{entry}', description: '…' },
 *   const stop = telemetry.addCallback('entries', l1, (l1, result) => result.observe(l1.size, attrs));
 *   // in close(): stop();
 *
 * Rules: names follow OpenTelemetry semantic conventions where one exists, else
 * `org.<package>.*`; units are UCUM (`s`, `By`, `{call}`); attribute values are bounded (a tier,
 * a driver, an outcome, an error `code`; never a key, an id, a secret name or a secret).
 */
import type * as OtelApi from '@opentelemetry/api';
import { CoreErrorCode, OrgError } from './errors.js';
import {
  onRegistration,
  otelApi,
  registeredMeterProvider,
  registeredTracerProvider,
} from './telemetry-api.js';
import {
  OBSERVABLE_KINDS,
  type ObservableCallback,
  type ObservableKind,
  ObservableSources,
} from './telemetry-observable.js';
import { inSpan, settle } from './telemetry-span.js';

export { errorType } from './telemetry-error.js';
export type {
  ObservableCallback,
  ObservableKind,
  ObservableResult,
} from './telemetry-observable.js';

/** Attribute values: bounded strings, numbers and booleans. */
export type TelemetryAttributes = Record<string, string | number | boolean>;

/** What a package declares for one instrument. */
export interface InstrumentSpec {
  /**
   * `counter` (monotonic sum), `upDownCounter`, `histogram` or `gauge` (last value recorded), or
   * an observable kind read at each collection through {@link Telemetry.addCallback}:
   * `observableGauge` (a current value: a size, a state, an age), `observableCounter` or
   * `observableUpDownCounter` (a running total kept elsewhere).
   */
  kind: 'counter' | 'upDownCounter' | 'histogram' | 'gauge' | ObservableKind;
  /** `org.<package>.<what>`, or the semantic-convention name where one exists. */
  name: string;
  /** UCUM unit: `s`, `By`, `{call}`. */
  unit: string;
  description: string;
  /** Histogram bucket boundaries, advice to the SDK (a view may override them). */
  boundaries?: readonly number[];
}

/** A counter or up-down counter. */
export interface AddInstrument {
  add(value: number, attributes?: TelemetryAttributes): void;
}

/** A histogram or gauge. */
export interface RecordInstrument {
  record(value: number, attributes?: TelemetryAttributes): void;
}

/** The instruments of a spec map, by key (observable ones are read through callbacks instead). */
export type Instruments<S extends Record<string, InstrumentSpec>> = {
  [K in keyof S as S[K]['kind'] extends ObservableKind ? never : K]: S[K]['kind'] extends
    | 'histogram'
    | 'gauge'
    ? RecordInstrument
    : AddInstrument;
};

/** The keys of a spec map's observable instruments. */
export type ObservableKey<S extends Record<string, InstrumentSpec>> = {
  [K in keyof S]: S[K]['kind'] extends ObservableKind ? K : never;
}[keyof S] &
  string;

/** The part of a live span a callback may use to add what it learns (a status code, a size). */
export interface TelemetrySpan {
  setAttribute(key: string, value: string | number | boolean): unknown;
  setAttributes(attributes: TelemetryAttributes): unknown;
}

/** Options of {@link Telemetry.withSpan}. */
export interface SpanOptions {
  /** `'client'` for a call to a remote service, else `'internal'` (the default). */
  kind?: 'internal' | 'client';
}

/** A package's instruments and spans; see the module comment. */
export interface Telemetry<S extends Record<string, InstrumentSpec>> {
  /** The instrumentation scope (the package name). */
  readonly scope: string;
  /**
   * The instruments of the registered meter provider, or `undefined` when there is none: build
   * attributes only after this check. Instruments are made once per provider.
   */
  metrics(): Instruments<S> | undefined;
  /** Whether a tracer provider is registered (spans would be recorded). */
  tracing(): boolean;
  /**
   * Whether anything would be recorded (a meter or a tracer provider is registered): check it
   * before building attributes for {@link Telemetry.observe} on a hot path.
   */
  enabled(): boolean;
  /**
   * Runs `fn` in a span that is a child of the caller's active span and active while `fn` runs;
   * ends it when `fn` returns or its promise settles, recording an error with its `code` as
   * `error.type`. With no tracer provider this is `fn(undefined)`.
   */
  withSpan<T>(
    name: string,
    attributes: TelemetryAttributes,
    fn: (span: TelemetrySpan | undefined) => T,
    options?: SpanOptions,
  ): T;
  /**
   * {@link Telemetry.withSpan} that also times `fn` and, once it settles, calls
   * `record(instruments, seconds, error)` when a meter provider is registered. With neither
   * provider this is `fn(undefined)`.
   */
  observe<T>(
    name: string,
    attributes: TelemetryAttributes,
    fn: (span: TelemetrySpan | undefined) => T,
    record: (metrics: Instruments<S>, seconds: number, error: unknown) => void,
    options?: SpanOptions,
  ): T;
  /**
   * Adds a source to the observable instrument `instrument`: at each collection of a registered
   * meter provider, `callback(target, result)` reports the target's values with
   * `result.observe(value, attributes)`. Call it once per live object and call the returned
   * function when the object is closed (idempotent). `target` is held weakly: once the app drops
   * it, its source leaves too; so `callback` must not close over it. With no SDK registered this
   * keeps the source and nothing else; a meter provider registered later reads it from its first
   * collection. A callback that throws loses its own values for that collection, nothing else.
   *
   * @throws OrgError `ERR_CORE_INVALID_ARGUMENT` when `instrument` is not an observable
   * instrument of this telemetry, `target` is not an object or `callback` is not a function.
   */
  addCallback<T extends object>(
    instrument: ObservableKey<S>,
    target: T,
    callback: ObservableCallback<T>,
  ): () => void;
}

/** Bucket boundaries in seconds for operation durations (OpenTelemetry's HTTP advice). */
export const DURATION_BOUNDARIES: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
];

/** Bucket boundaries in bytes for payload sizes (powers of 4 from 64 B to 1 GiB). */
export const SIZE_BOUNDARIES: readonly number[] = Array.from({ length: 13 }, (_, i) => 64 * 4 ** i);

const NAME = /^[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+$/;

/**
 * Declares a package's instruments: validated now (a bad name, kind or unit throws `OrgError`
 * `ERR_CORE_INVALID_ARGUMENT`), made once per registered meter provider.
 */
export function createTelemetry<const S extends Record<string, InstrumentSpec>>(
  scope: { name: string; version?: string },
  specs: S,
): Telemetry<S> {
  checkSpecs(scope, specs);
  return new PackageTelemetry(scope.name, scope.version, specs);
}

const KINDS: readonly InstrumentSpec['kind'][] = [
  'counter',
  'upDownCounter',
  'histogram',
  'gauge',
  ...OBSERVABLE_KINDS,
];

const isObservable = (kind: InstrumentSpec['kind']): kind is ObservableKind =>
  (OBSERVABLE_KINDS as readonly string[]).includes(kind);

const invalid = (message: string) => new OrgError(CoreErrorCode.InvalidArgument, message);

function checkSpecs(scope: { name: string; version?: string }, specs: object): void {
  if (typeof scope?.name !== 'string' || scope.name === '')
    throw invalid('createTelemetry needs the package name as scope.name.');
  const seen = new Set<string>();
  for (const [key, spec] of Object.entries(specs) as [string, InstrumentSpec][]) {
    const where = `instrument '${key}' of ${scope.name}`;
    if (!KINDS.includes(spec?.kind)) throw invalid(`The ${where} needs kind ${KINDS.join('|')}.`);
    if (typeof spec.name !== 'string' || !NAME.test(spec.name) || spec.name.length > 255)
      throw invalid(`The ${where} needs a dotted lower-case name (org.pkg.what).`);
    if (seen.has(spec.name)) throw invalid(`The ${where} repeats ${spec.name}.`);
    seen.add(spec.name);
    if (typeof spec.unit !== 'string' || spec.unit === '' || spec.unit.length > 63)
      throw invalid(`The ${where} needs a UCUM unit ('s', 'By', '{call}').`);
  }
}

class PackageTelemetry<S extends Record<string, InstrumentSpec>> implements Telemetry<S> {
  readonly scope: string;
  readonly #version: string | undefined;
  readonly #specs: S;
  // The provider the instruments were made for; a provider refused (incompatible API) is kept
  // in #refused so that it is not retried on every call.
  #provider: object | undefined;
  #instruments: Instruments<S> | undefined;
  #refused: object | undefined;
  // The sources of each observable instrument, by key; watching registrations starts with the
  // first source.
  readonly #observables = new Map<string, ObservableSources>();
  #watching = false;

  constructor(scope: string, version: string | undefined, specs: S) {
    this.scope = scope;
    this.#version = version;
    this.#specs = specs;
    for (const [key, spec] of Object.entries(specs))
      if (isObservable(spec.kind)) this.#observables.set(key, new ObservableSources());
  }

  addCallback<T extends object>(
    instrument: ObservableKey<S>,
    target: T,
    callback: ObservableCallback<T>,
  ): () => void {
    const sources = this.#observables.get(instrument);
    if (sources === undefined)
      throw invalid(
        `addCallback needs the key of an observable instrument of ${this.scope}, not '${String(instrument)}'.`,
      );
    if ((typeof target !== 'object' && typeof target !== 'function') || target === null)
      throw invalid(`addCallback('${instrument}') needs the object it reads as its target.`);
    if (typeof callback !== 'function')
      throw invalid(`addCallback('${instrument}') needs a callback (target, result) => void.`);
    const remove = sources.add(target, callback);
    if (!this.#watching) {
      this.#watching = true;
      // A provider registered later makes the instruments at once (in a microtask), so its first
      // collection reads the sources even if nothing records in between.
      onRegistration(() => {
        if (registeredMeterProvider() !== undefined) this.metrics();
      });
    }
    if (registeredMeterProvider() !== undefined) this.metrics();
    return remove;
  }

  metrics(): Instruments<S> | undefined {
    const provider = registeredMeterProvider();
    if (provider === undefined) return undefined;
    if (provider === this.#provider) return this.#instruments;
    return this.#rebuild(provider);
  }

  #rebuild(provider: object): Instruments<S> | undefined {
    if (provider === this.#refused) return undefined;
    const api = otelApi();
    // A registry written by an incompatible API version is not what our API returns.
    if (api === undefined || api.metrics.getMeterProvider() !== provider) {
      this.#refused = provider;
      return undefined;
    }
    const meter = api.metrics.getMeter(this.scope, this.#version);
    const made: Record<string, unknown> = {};
    for (const [key, spec] of Object.entries(this.#specs)) {
      const sources = this.#observables.get(key);
      if (sources === undefined) made[key] = makeInstrument(meter, spec);
      else
        sources.attach(meter, provider, spec.kind as ObservableKind, spec.name, {
          unit: spec.unit,
          description: spec.description,
        });
    }
    this.#provider = provider;
    this.#instruments = made as Instruments<S>;
    return this.#instruments;
  }

  tracing(): boolean {
    return registeredTracerProvider() !== undefined;
  }

  enabled(): boolean {
    return registeredTracerProvider() !== undefined || this.metrics() !== undefined;
  }

  #tracer(): OtelApi.Tracer | undefined {
    if (registeredTracerProvider() === undefined) return undefined;
    // The API's tracer provider is a proxy over the SDK's, which keeps its tracers by name.
    return otelApi()?.trace.getTracer(this.scope, this.#version);
  }

  withSpan<T>(
    name: string,
    attributes: TelemetryAttributes,
    fn: (span: TelemetrySpan | undefined) => T,
    options?: SpanOptions,
  ): T {
    const tracer = this.#tracer();
    if (tracer === undefined) return fn(undefined);
    return inSpan(tracer, name, attributes, options, fn, undefined);
  }

  observe<T>(
    name: string,
    attributes: TelemetryAttributes,
    fn: (span: TelemetrySpan | undefined) => T,
    record: (metrics: Instruments<S>, seconds: number, error: unknown) => void,
    options?: SpanOptions,
  ): T {
    const metrics = this.metrics();
    const tracer = this.#tracer();
    if (metrics === undefined && tracer === undefined) return fn(undefined);
    const start = performance.now();
    const done =
      metrics === undefined
        ? undefined
        : (error: unknown) => {
            try {
              record(metrics, (performance.now() - start) / 1000, error);
            } catch {
              // A recording bug must not fail the operation it describes.
            }
          };
    if (tracer !== undefined) return inSpan(tracer, name, attributes, options, fn, done);
    return settle(fn(undefined), done, undefined);
  }
}

function makeInstrument(meter: OtelApi.Meter, spec: InstrumentSpec): unknown {
  const options: OtelApi.MetricOptions = { unit: spec.unit, description: spec.description };
  if (spec.boundaries !== undefined)
    options.advice = { explicitBucketBoundaries: [...spec.boundaries] };
  switch (spec.kind) {
    case 'counter':
      return meter.createCounter(spec.name, options);
    case 'upDownCounter':
      return meter.createUpDownCounter(spec.name, options);
    case 'histogram':
      return meter.createHistogram(spec.name, options);
    case 'gauge':
      return meter.createGauge(spec.name, options);
    default:
      return undefined;
  }
}
