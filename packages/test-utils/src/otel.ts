/**
 * An OpenTelemetry SDK held in memory, registered globally for one test: a meter provider whose
 * reader collects on demand and a tracer provider whose spans land in an in-memory exporter, with
 * an AsyncLocalStorage context manager so that spans nest as they do in an app.
 *
 *   const otel = startOtel();
 *   await limiter.limit('login', id);
 *   expect(await otel.sum('org.rate_limit.decisions', { 'org.rate_limit.outcome': 'allowed' })).toBe(1);
 *   expect(otel.spans('org.storage.put')[0]?.attributes['org.storage.driver']).toBe('s3');
 *   await otel.close();
 *
 * `close()` unregisters everything, so the next test starts from no SDK at all.
 */
import { type Attributes, context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  type DataPoint,
  type Histogram,
  MeterProvider,
  type MetricData,
  MetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

class TestReader extends MetricReader {
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

/** One collected data point, its metric's descriptor flattened in. */
export interface CollectedPoint {
  name: string;
  unit: string;
  attributes: Attributes;
  /** A sum's or gauge's value; a histogram's count. */
  value: number;
  /** A histogram's sum, else `value`. */
  sum: number;
  /** A histogram's bucket boundaries, else `[]`. */
  boundaries: number[];
}

export interface OtelHarness {
  /** Every data point collected now. */
  collect(): Promise<CollectedPoint[]>;
  /** The points of metric `name` whose attributes include `match`. */
  points(name: string, match?: Attributes): Promise<CollectedPoint[]>;
  /** The sum of `value` over {@link OtelHarness.points} (a counter's total, a histogram's count). */
  sum(name: string, match?: Attributes): Promise<number>;
  /** Ended spans, optionally only those named `name`. */
  spans(name?: string): ReadableSpan[];
  /** Unregisters the SDK and context manager and shuts the providers down. */
  close(): Promise<void>;
}

function matches(attributes: Attributes, match: Attributes | undefined): boolean {
  if (match === undefined) return true;
  return Object.entries(match).every(([k, v]) => attributes[k] === v);
}

function flatten(metric: MetricData): CollectedPoint[] {
  const { name, unit } = metric.descriptor;
  return (metric.dataPoints as DataPoint<number | Histogram>[]).map((p) => {
    if (typeof p.value === 'number')
      return { name, unit, attributes: p.attributes, value: p.value, sum: p.value, boundaries: [] };
    return {
      name,
      unit,
      attributes: p.attributes,
      value: p.value.count,
      sum: p.value.sum ?? 0,
      boundaries: p.value.buckets.boundaries,
    };
  });
}

/**
 * Registers an in-memory meter provider, tracer provider and context manager globally (call it
 * after the package under test was imported: that is the late registration apps do).
 */
export function startOtel(): OtelHarness {
  const reader = new TestReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  if (!context.setGlobalContextManager(contextManager))
    throw new Error('a context manager is registered already: close the previous harness');
  metrics.setGlobalMeterProvider(meterProvider);
  trace.setGlobalTracerProvider(tracerProvider);

  const collect = async () => {
    const { resourceMetrics, errors } = await reader.collect();
    if (errors.length > 0) throw errors[0];
    return resourceMetrics.scopeMetrics.flatMap((s) => s.metrics.flatMap(flatten));
  };
  const points = async (name: string, match?: Attributes) =>
    (await collect()).filter((p) => p.name === name && matches(p.attributes, match));
  return {
    collect,
    points,
    sum: async (name, match) => (await points(name, match)).reduce((n, p) => n + p.value, 0),
    spans: (name) =>
      exporter.getFinishedSpans().filter((s) => name === undefined || s.name === name),
    async close() {
      metrics.disable();
      trace.disable();
      context.disable();
      contextManager.disable();
      await Promise.all([meterProvider.shutdown(), tracerProvider.shutdown()]);
    },
  };
}
