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
import { execFileSync } from 'node:child_process';
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
  /**
   * Runs `fn` inside an active span named `name`, as an app's request handler would; the span
   * ends when `fn` settles. Returns the span's id, to compare with a child's `parentSpanContext`.
   */
  inSpan(name: string, fn: () => Promise<unknown>): Promise<string>;
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
    inSpan: (name, fn) =>
      trace.getTracer('@org/test-utils').startActiveSpan(name, async (span) => {
        try {
          await fn();
        } finally {
          span.end();
        }
        return span.spanContext().spanId;
      }),
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

/**
 * `<commit>^` for the first commit that added `path` (relative to the current directory): the
 * tree just before it existed, a bench's baseline. Undefined when no commit adds it.
 */
export function commitBefore(path: string): string | undefined {
  const added = execFileSync('git', ['log', '--diff-filter=A', '--format=%H', '--', path], {
    encoding: 'utf8',
  })
    .trim()
    .split('\n')
    .at(-1);
  return added ? `${added}^` : undefined;
}

/** What {@link buildForBench} needs of tsup's `build` (passed in: tsup is the package's). */
export type BundleFn = (options: {
  config: false;
  entry: Record<string, string>;
  format: ['esm'];
  outDir: string;
  target: string;
  splitting: false;
  silent: true;
  noExternal: RegExp[];
  esbuildOptions: (o: { alias?: Record<string, string> }) => void;
}) => Promise<unknown>;

export interface BenchBuilds {
  /** The entry of the package as it was at `ref`, bundled with that commit's @org/core. */
  baseline: string;
  /** The entry of the package as it is in the working tree, bundled with today's @org/core. */
  current: string;
  /** The commit the baseline was built from. */
  ref: string;
}

/**
 * Builds a package twice, at `ref` (default: the commit before @org/core gained telemetry) and as
 * it is now, each bundled with its own @org/core, so that a bench can import both into one
 * process and compare them in paired rounds. The baseline's sources come from `git archive`
 * into a temporary directory (the repository is not touched); other dependencies resolve from
 * the package's node_modules. Run from the package's directory.
 */
export async function buildForBench(
  pkg: string,
  bundle: BundleFn,
  ref = process.env.BENCH_BASELINE_REF,
): Promise<BenchBuilds> {
  const { mkdirSync, existsSync, symlinkSync, rmSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8' }).trim();
  const root = git('rev-parse', '--show-toplevel');
  const before = ref ?? commitBefore(join(root, 'packages/core/src/telemetry.ts'));
  if (!before)
    throw new Error('no commit adds packages/core/src/telemetry.ts: set BENCH_BASELINE_REF');
  const sha = git('-C', root, 'rev-parse', before);
  const base = join(tmpdir(), `org-bench-${sha.slice(0, 12)}`);
  const out = join(tmpdir(), `org-bench-out-${process.pid}`);
  if (!existsSync(join(base, 'packages', pkg, 'src'))) {
    mkdirSync(base, { recursive: true });
    const tar = execFileSync('git', [
      '-C',
      root,
      'archive',
      sha,
      `packages/${pkg}/src`,
      'packages/core/src',
    ]);
    execFileSync('tar', ['-x', '-C', base], { input: tar });
  }
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  process.once('exit', () => rmSync(out, { recursive: true, force: true }));
  // The bundles import the package's other dependencies (ioredis …) from its node_modules.
  symlinkSync(join(root, 'packages', pkg, 'node_modules'), join(out, 'node_modules'), 'dir');
  const make = async (from: string, name: string) => {
    await bundle({
      config: false,
      entry: { [name]: join(from, 'packages', pkg, 'src', 'index.ts') },
      format: ['esm'],
      outDir: out,
      target: 'node20',
      splitting: false,
      silent: true,
      noExternal: [/^@org\/core/],
      esbuildOptions: (o) => {
        // Subpaths follow (`@org/core/redis`, the package's own `@org/storage/s3`): each tree
        // bundles its own sources.
        o.alias = {
          '@org/core': join(from, 'packages/core/src'),
          [`@org/${pkg}`]: join(from, 'packages', pkg, 'src'),
        };
      },
    });
    return join(out, `${name}.js`);
  };
  return { baseline: await make(base, 'baseline'), current: await make(root, 'current'), ref: sha };
}

/**
 * The cost one call gains, in nanoseconds, from a paired run of the same call with and without
 * what is measured: the anchor's time per call × (1 / median ratio − 1). The median of the
 * per-round ratios is steadier than the ratio of two medians of throughput.
 */
export const addedNsPerCall = (r: { median: number; anchorHz: number }): number =>
  (1e9 / r.anchorHz) * (1 / r.median - 1);

/** A markdown row for a now ÷ before ratio, to three decimals (a 2 % budget needs them). */
export function fineRatioRow(
  name: string,
  r: { median: number; min: number; max: number },
  ...extra: string[]
): string {
  const cells = [
    name,
    `${r.median.toFixed(3)}×`,
    `${r.min.toFixed(3)}–${r.max.toFixed(3)}×`,
    ...extra,
  ];
  return `| ${cells.join(' | ')} |`;
}
