import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type ServiceProcess, spawnService } from './support/spawn-service.js';

let service: ServiceProcess | undefined;
let collector: Server | undefined;
afterEach(async () => {
  await service?.stop();
  service = undefined;
  collector?.closeAllConnections();
  await new Promise<void>((r) => (collector ? collector.close(() => r()) : r()));
  collector = undefined;
});

/** An OTLP/HTTP receiver that keeps what it is sent, by path (`/v1/metrics`, `/v1/traces`). */
async function startCollector(): Promise<{ url: string; received: Map<string, string[]> }> {
  const received = new Map<string, string[]>();
  collector = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const list = received.get(req.url ?? '') ?? [];
      list.push(Buffer.concat(chunks).toString('utf8'));
      received.set(req.url ?? '', list);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => collector?.listen(0, '127.0.0.1', r));
  const { port } = collector.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, received };
}

describe('the OpenTelemetry SDK of the service process', () => {
  it('OTEL_EXPORTER_OTLP_ENDPOINT: metrics and the packages’ spans are exported, flushed at shutdown', async () => {
    const otlp = await startCollector();
    service = await spawnService({
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      OTEL_METRIC_EXPORT_INTERVAL: '60000', // only the shutdown's flush sends them
      SHUTDOWN_DELAY: '0',
    });
    const put = await fetch(`${service.base}/storage/uploads?key=otlp/a.txt`, {
      method: 'PUT',
      body: 'hello',
    });
    expect(put.status).toBe(200);
    expect(otlp.received.size).toBe(0);
    service.child.kill('SIGTERM');
    expect((await service.exited).code).toBe(0);
    const metrics = (otlp.received.get('/v1/metrics') ?? []).join('\n');
    const traces = (otlp.received.get('/v1/traces') ?? []).join('\n');
    expect(metrics).toContain('org.storage.bytes');
    expect(metrics).toContain('http.server.request.duration');
    // The request's SERVER span, named by its route template, and the package's span under it.
    type Span = { name: string; spanId: string; parentSpanId?: string; kind: number };
    const spans = (otlp.received.get('/v1/traces') ?? []).flatMap((body) =>
      (
        JSON.parse(body) as { resourceSpans: { scopeSpans: { spans: Span[] }[] }[] }
      ).resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)),
    );
    const server = spans.find((s) => s.name === 'PUT /storage/uploads');
    expect(server?.kind).toBe(2); // SERVER
    const child = spans.find((s) => s.name === 'storage put');
    expect(child?.parentSpanId).toBe(server?.spanId);
    expect(metrics).toContain('example-service');
    // The key never leaves as an attribute.
    expect(metrics + traces).not.toContain('otlp/a.txt');
  }, 30_000);

  it('OTEL_SDK_DISABLED=true: no SDK, no /metrics, and the status page says metrics are off', async () => {
    service = await spawnService({ OTEL_SDK_DISABLED: 'true' });
    expect((await fetch(`${service.base}/metrics`)).status).toBe(404);
    const status = (await (await fetch(`${service.base}/status.json`)).json()) as {
      metrics: unknown;
      breakers: unknown[];
    };
    expect(status.metrics).toBeNull();
    expect(status.breakers.length).toBeGreaterThan(0);
  }, 30_000);

  it('NODE_ENV=production: the chaos route is not there, and the page offers no control', async () => {
    service = await spawnService({
      NODE_ENV: 'production',
      BACKUP_ENCRYPTION_KEY: 'Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE=',
    });
    const chaos = await fetch(`${service.base}/upstream/chaos?failRate=1`, { method: 'POST' });
    expect(chaos.status).toBe(404);
    const status = (await (await fetch(`${service.base}/status.json`)).json()) as {
      chaos: boolean;
    };
    expect(status.chaos).toBe(false);
    const page = await (await fetch(`${service.base}/status`)).text();
    expect(page).not.toContain('Zm9vYmFyYmF6cXV4');
  }, 30_000);
});
