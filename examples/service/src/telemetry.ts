/**
 * The OpenTelemetry SDK of the service, in one module to copy into an app. Start it before the
 * packages do any work (`createService` calls it first); the @org packages record through
 * `@opentelemetry/api` and pick the registered providers up on their next call.
 *
 * - Metrics: a MeterProvider with a Prometheus exporter that serves no port of its own (the app
 *   mounts `metricsHandler` as `GET /metrics` on its server), an in-process reader the app may
 *   `collect()` from (the status page does), and OTLP/HTTP every `OTEL_METRIC_EXPORT_INTERVAL`
 *   when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`) is set.
 * - Traces: a NodeTracerProvider (so the packages' spans exist and nest under the caller's),
 *   exported by OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `…_TRACES_ENDPOINT`) is set.
 * - `OTEL_SDK_DISABLED=true`: nothing is registered and `startTelemetry` returns `undefined`.
 * - `OTEL_SERVICE_NAME` names the service (default `example-service`).
 *
 * `shutdown()` flushes the OTLP exporters and unregisters the providers; run it last in the
 * graceful shutdown.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  MeterProvider,
  MetricReader,
  PeriodicExportingMetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import {
  BatchSpanProcessor,
  NodeTracerProvider,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-node';

/** A reader collected on demand, inside the process (no export). */
class InProcessReader extends MetricReader {
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

/** The running SDK. */
export interface ServiceTelemetry {
  /** Answers `GET /metrics` in the Prometheus text format. */
  metricsHandler(req: IncomingMessage, res: ServerResponse): void;
  /** Every metric as the SDK holds it now (cumulative), for in-process views. */
  collect(): Promise<ResourceMetrics>;
  /** Whether metrics and traces also go to an OTLP endpoint. */
  readonly otlp: boolean;
  /** Flushes the exporters and unregisters the providers; idempotent. */
  shutdown(): Promise<void>;
}

type Env = Record<string, string | undefined>;

const exportInterval = (env: Env): number => {
  const n = Number(env.OTEL_METRIC_EXPORT_INTERVAL ?? 60_000);
  return Number.isInteger(n) && n >= 100 ? n : 60_000;
};

/** Registers the SDK globally (see the module comment), or returns `undefined` when disabled. */
export function startTelemetry(env: Env = process.env): ServiceTelemetry | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  const resource = resourceFromAttributes({
    'service.name': env.OTEL_SERVICE_NAME || 'example-service',
    'service.version': '0.0.0',
  });
  const otlp = Boolean(
    env.OTEL_EXPORTER_OTLP_ENDPOINT ||
      env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT ||
      env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
  );

  const prometheus = new PrometheusExporter({ preventServerStart: true });
  const local = new InProcessReader();
  const readers: MetricReader[] = [prometheus, local];
  if (otlp) {
    readers.push(
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter(),
        exportIntervalMillis: exportInterval(env),
      }),
    );
  }
  const meterProvider = new MeterProvider({ resource, readers });
  const spanProcessors: SpanProcessor[] = otlp
    ? [new BatchSpanProcessor(new OTLPTraceExporter())]
    : [];
  const tracerProvider = new NodeTracerProvider({ resource, spanProcessors });
  // Registers the tracer provider, the AsyncLocalStorage context manager and W3C propagation.
  tracerProvider.register();
  metrics.setGlobalMeterProvider(meterProvider);

  let stopped: Promise<void> | undefined;
  return {
    metricsHandler: (req, res) => prometheus.getMetricsRequestHandler(req, res),
    async collect() {
      const { resourceMetrics } = await local.collect();
      return resourceMetrics;
    },
    otlp,
    shutdown() {
      stopped ??= (async () => {
        metrics.disable();
        trace.disable();
        propagation.disable();
        context.disable();
        // Flushes what the OTLP readers and span processor hold, then releases them.
        await Promise.allSettled([meterProvider.shutdown(), tracerProvider.shutdown()]);
      })();
      return stopped;
    },
  };
}
