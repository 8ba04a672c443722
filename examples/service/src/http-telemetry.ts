import type { IncomingMessage, ServerResponse } from 'node:http';
import { context, metrics, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';

/** OpenTelemetry's advice for HTTP durations, in seconds. */
const BOUNDARIES = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);

/** Observes one request: `route` is read once the response is done; `handle` runs in its span. */
export type ObserveRequest = (
  req: IncomingMessage,
  res: ServerResponse,
  route: () => string | undefined,
  handle?: () => Promise<void>,
) => Promise<void>;

/**
 * The server's own telemetry, by the HTTP semantic conventions: a `SERVER` span per request
 * (continuing the caller's trace from `traceparent`; the packages' spans nest under it) and the
 * `http.server.request.duration` histogram, both with the method (`_OTHER` outside the known
 * set), the route *template* (only when a route matched: a raw path would make one series per
 * URL a client invents), the status code, and `error.type` for a 5xx or a response cut short.
 * Without a registered SDK the API's no-op meter and tracer make this nearly free.
 */
export function httpServerTelemetry(): ObserveRequest {
  const duration = metrics
    .getMeter('example-service')
    .createHistogram('http.server.request.duration', {
      unit: 's',
      description: 'Duration of HTTP server requests.',
      advice: { explicitBucketBoundaries: BOUNDARIES },
    });
  const tracer = trace.getTracer('example-service');
  return async (req, res, route, handle) => {
    const start = performance.now();
    const method = METHODS.has(req.method ?? '') ? (req.method as string) : '_OTHER';
    const parent = propagation.extract(context.active(), req.headers);
    const span = tracer.startSpan(
      method,
      {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': method, 'url.scheme': 'http' },
      },
      parent,
    );
    res.once('close', () => {
      const attributes: Record<string, string | number> = {
        'http.request.method': method,
        'url.scheme': 'http',
      };
      const template = route();
      if (template !== undefined) {
        attributes['http.route'] = template;
        span.updateName(`${method} ${template}`);
      }
      if (res.headersSent) attributes['http.response.status_code'] = res.statusCode;
      if (!res.writableFinished) attributes['error.type'] = 'incomplete';
      else if (res.statusCode >= 500) attributes['error.type'] = String(res.statusCode);
      duration.record((performance.now() - start) / 1000, attributes);
      span.setAttributes(attributes);
      if (attributes['error.type'] !== undefined) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    if (handle) await context.with(trace.setSpan(parent, span), handle);
  };
}
