import type { IncomingMessage, ServerResponse } from 'node:http';
import { metrics } from '@opentelemetry/api';

/** OpenTelemetry's advice for HTTP durations, in seconds. */
const BOUNDARIES = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);

/**
 * Records `http.server.request.duration` (semantic conventions) for each request once its
 * response is done: the method (`_OTHER` for one outside the known set), the route *template*
 * (only when a route matched; a raw path would make one series per URL a client invents), the
 * status code, and `error.type` for a 5xx or a response cut short. Without a registered meter
 * provider the API's no-op meter makes this free.
 */
export function httpServerMetrics(): (
  req: IncomingMessage,
  res: ServerResponse,
  route: () => string | undefined,
) => void {
  const duration = metrics
    .getMeter('example-service')
    .createHistogram('http.server.request.duration', {
      unit: 's',
      description: 'Duration of HTTP server requests.',
      advice: { explicitBucketBoundaries: BOUNDARIES },
    });
  return (req, res, route) => {
    const start = performance.now();
    res.once('close', () => {
      const method = METHODS.has(req.method ?? '') ? (req.method as string) : '_OTHER';
      const attributes: Record<string, string | number> = {
        'http.request.method': method,
        'url.scheme': 'http',
      };
      const template = route();
      if (template !== undefined) attributes['http.route'] = template;
      if (res.headersSent) attributes['http.response.status_code'] = res.statusCode;
      if (!res.writableFinished) attributes['error.type'] = 'incomplete';
      else if (res.statusCode >= 500) attributes['error.type'] = String(res.statusCode);
      duration.record((performance.now() - start) / 1000, attributes);
    });
  };
}
