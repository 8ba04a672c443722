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
 * Rules: names follow OpenTelemetry semantic conventions where one exists, else
 * `org.<package>.*`; units are UCUM (`s`, `By`, `{call}`); attribute values are bounded (a tier,
 * a driver, an outcome, an error `code`; never a key, an id, a secret name or a secret).
 */
import type * as OtelApi from '@opentelemetry/api';
import { CoreErrorCode, OrgError } from './errors.js';
import { otelApi, registeredMeterProvider, registeredTracerProvider } from './telemetry-api.js';
import { recordError } from './telemetry-error.js';

export { errorType } from './telemetry-error.js';

/** Attribute values: bounded strings, numbers and booleans. */
export type TelemetryAttributes = Record<string, string | number | boolean>;

/** What a package declares for one instrument. */
export interface InstrumentSpec {
  /** `counter` (monotonic sum), `upDownCounter`, `histogram` or `gauge` (last value). */
  kind: 'counter' | 'upDownCounter' | 'histogram' | 'gauge';
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

/** The instruments of a spec map, by key. */
export type Instruments<S extends Record<string, InstrumentSpec>> = {
  [K in keyof S]: S[K]['kind'] extends 'histogram' | 'gauge' ? RecordInstrument : AddInstrument;
};

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

const invalid = (message: string) => new OrgError(CoreErrorCode.InvalidArgument, message);

function checkSpecs(scope: { name: string; version?: string }, specs: object): void {
  if (typeof scope?.name !== 'string' || scope.name === '')
    throw invalid('createTelemetry needs the package name as scope.name.');
  const seen = new Set<string>();
  for (const [key, spec] of Object.entries(specs) as [string, InstrumentSpec][]) {
    const where = `instrument '${key}' of ${scope.name}`;
    if (!['counter', 'upDownCounter', 'histogram', 'gauge'].includes(spec?.kind))
      throw invalid(`The ${where} needs kind counter|upDownCounter|histogram|gauge.`);
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

  constructor(scope: string, version: string | undefined, specs: S) {
    this.scope = scope;
    this.#version = version;
    this.#specs = specs;
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
    for (const [key, spec] of Object.entries(this.#specs)) made[key] = makeInstrument(meter, spec);
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
  }
}

function inSpan<T>(
  tracer: OtelApi.Tracer,
  name: string,
  attributes: TelemetryAttributes,
  options: SpanOptions | undefined,
  fn: (span: TelemetrySpan | undefined) => T,
  done: ((error: unknown) => void) | undefined,
): T {
  const api = otelApi() as typeof OtelApi;
  const parent = api.context.active();
  const span = tracer.startSpan(
    name,
    {
      kind: options?.kind === 'client' ? api.SpanKind.CLIENT : api.SpanKind.INTERNAL,
      attributes,
    },
    parent,
  );
  let result: T;
  try {
    result = api.context.with(api.trace.setSpan(parent, span), fn, undefined, span);
  } catch (err) {
    finish(span, err, true, done);
    throw err;
  }
  return settle(result, done, span);
}

/** Calls `done` (and ends `span`) when `result` settles, or now when it is no promise. */
function settle<T>(
  result: T,
  done: ((error: unknown) => void) | undefined,
  span: OtelApi.Span | undefined,
): T {
  if (isPromise(result)) {
    // The caller awaits the returned promise, so its rejection is handled there; the branch
    // made here only observes it.
    return result.then(
      (value) => {
        finish(span, undefined, false, done);
        return value;
      },
      (err: unknown) => {
        finish(span, err, true, done);
        throw err;
      },
    ) as T;
  }
  finish(span, undefined, false, done);
  return result;
}

function finish(
  span: OtelApi.Span | undefined,
  error: unknown,
  failed: boolean,
  done: ((error: unknown) => void) | undefined,
): void {
  done?.(failed ? (error ?? new Error('rejected with undefined')) : undefined);
  if (span === undefined) return;
  if (failed) recordError(span, error);
  span.end();
}

function isPromise(value: unknown): value is Promise<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
