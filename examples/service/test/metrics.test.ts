import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { access } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { programAvailable } from '@org/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createService } from '../src/server.js';

// GET /metrics read as Prometheus reads it: by the Prometheus Python client's own parser.
const PYTHON = '/usr/bin/python3';
const PARSE = `
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for f in text_string_to_metric_families(sys.stdin.read()):
    out.append({"name": f.name, "type": f.type, "samples": [
        {"name": s.name, "labels": s.labels, "value": s.value} for s in f.samples]})
print(json.dumps(out))
`;

interface Family {
  name: string;
  type: string;
  samples: { name: string; labels: Record<string, string>; value: number }[];
}

const parserAvailable = await programAvailable(
  'the Prometheus Python client (prometheus_client)',
  () =>
    access(PYTHON).then(
      () =>
        new Promise<boolean>((resolve) => {
          const p = spawn(PYTHON, ['-c', 'import prometheus_client.parser'], { stdio: 'ignore' });
          p.once('error', () => resolve(false));
          p.once('exit', (code) => resolve(code === 0));
        }),
    ),
);

function parse(text: string): Promise<Family[]> {
  return new Promise((resolve, reject) => {
    const p = spawn(PYTHON, ['-c', PARSE], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    p.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    const timer = setTimeout(() => p.kill('SIGKILL'), 10_000);
    p.once('error', reject);
    p.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(JSON.parse(out) as Family[]);
      else reject(new Error(`the Prometheus parser refused the exposition (${code}): ${err}`));
    });
    p.stdin.end(text);
  });
}

const root = mkdtempSync(join(tmpdir(), 'example-service-metrics-'));
let base = '';
let close: () => Promise<void>;
beforeAll(async () => {
  process.env.STORAGE_ROOT = root;
  process.env.UPSTREAM_FAIL_RATE = '0'; // every breaker call succeeds: exact counts
  delete process.env.OTEL_SDK_DISABLED;
  delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  delete process.env.REDIS_URL;
  delete process.env.AWS_S3_BUCKET;
  const service = await createService({ shutdownDelay: 0, drainTimeout: 1_000 });
  await new Promise<void>((r) => service.server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(service.server.address() as AddressInfo).port}`;
  close = service.close;
});
afterAll(async () => {
  await close();
  delete process.env.UPSTREAM_FAIL_RATE;
  rmSync(root, { recursive: true, force: true });
});

const sample = (families: Family[], family: string, labels: Record<string, string> = {}) =>
  families
    .find((f) => f.name === family)
    ?.samples.filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));

describe.runIf(parserAvailable)('GET /metrics, parsed by the Prometheus client', () => {
  it('shows what each instrumented package recorded for the traffic sent', async () => {
    // Traffic for every package that records today.
    const put = await fetch(`${base}/storage/uploads?key=m/one.txt`, {
      method: 'PUT',
      body: 'twelve bytes',
    });
    expect(put.status).toBe(200);
    expect((await fetch(`${base}/storage/uploads?key=m/missing.txt`)).status).toBe(404);
    const pair = (await (
      await fetch(`${base}/auth/token`, { method: 'POST', body: '{"sub":"m"}' })
    ).json()) as { access_token: string };
    const me = await fetch(`${base}/auth/me`, {
      headers: { authorization: `Bearer ${pair.access_token}` },
    });
    expect(me.status).toBe(200);
    const plain = 'x'.repeat(1_000);
    const token = await (
      await fetch(`${base}/backup-crypto/encrypt`, { method: 'POST', body: plain })
    ).text();
    expect(
      await (await fetch(`${base}/backup-crypto/decrypt`, { method: 'POST', body: token })).text(),
    ).toBe(plain);
    expect((await fetch(`${base}/alerts/test`, { method: 'POST' })).status).toBe(200);
    // The demo tier allows 5 an hour: the sixth is a rejection.
    const quotes = [];
    for (let i = 0; i < 6; i++) quotes.push((await fetch(`${base}/rate-limit/quote`)).status);
    expect(quotes.at(-1)).toBe(429);
    expect((await fetch(`${base}/no/such/route/42`)).status).toBe(404);
    // resilience: three calls through the flaky-upstream breaker; cache: a miss, then two L1 hits.
    for (let i = 0; i < 3; i++) expect((await fetch(`${base}/upstream`)).status).toBe(200);
    for (let i = 0; i < 3; i++) await fetch(`${base}/cache/contractor?id=metrics`);
    await new Promise((r) => setTimeout(r, 100)); // the alert is sent off the request's path

    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const families = await parse(await res.text());

    // rate-limit: decisions per tier and outcome, the demo tier's rejection among them.
    expect(
      sample(families, 'org_rate_limit_decisions', {
        org_rate_limit_tier: 'demo',
        org_rate_limit_outcome: 'limited',
      })?.[0]?.value,
    ).toBe(1);
    expect(
      sample(families, 'org_rate_limit_decisions', {
        org_rate_limit_tier: 'demo',
        org_rate_limit_outcome: 'allowed',
      })?.[0]?.value,
    ).toBe(5);
    // storage: the put's bytes and its duration, and the failed read with its error code.
    expect(
      sample(families, 'org_storage_bytes', { org_storage_operation: 'put' })?.[0]?.value,
    ).toBe(12);
    const ops = sample(families, 'org_storage_operation_duration', {
      org_storage_operation: 'put',
    });
    expect(ops?.find((s) => s.name.endsWith('_count'))?.value).toBe(1);
    expect(
      sample(families, 'org_storage_operation_duration', {
        error_type: 'ERR_STORAGE_NOT_FOUND',
      })?.length,
    ).toBeGreaterThan(0);
    // key-rotation: one sign, one verify by the ring.
    expect(
      sample(families, 'org_key_rotation_signs', { org_key_rotation_outcome: 'success' })?.[0]
        ?.value,
    ).toBe(1);
    expect(
      sample(families, 'org_key_rotation_verifies', {
        org_key_rotation_verifier: 'ring',
        org_key_rotation_outcome: 'success',
      })?.[0]?.value,
    ).toBe(1);
    // backup-crypto: the plaintext bytes each way.
    for (const operation of ['encrypt', 'decrypt']) {
      expect(
        sample(families, 'org_backup_crypto_bytes', { org_backup_crypto_operation: operation })?.[0]
          ?.value,
      ).toBe(1_000);
    }
    // alerts: the test alert went to stderr (no SENTRY_DSN).
    expect(
      sample(families, 'org_alerts_sent', { org_alerts_destination: 'stderr' })?.[0]?.value,
    ).toBeGreaterThanOrEqual(1);

    // resilience: the breaker's attempts by outcome and its state gauge (0: closed).
    expect(
      sample(families, 'org_breaker_calls', {
        org_breaker_name: 'flaky-upstream',
        org_breaker_outcome: 'success',
      })?.[0]?.value,
    ).toBe(3);
    expect(
      sample(families, 'org_breaker_calls', {
        org_breaker_name: 'flaky-upstream',
        org_breaker_outcome: 'failure',
      }) ?? [],
    ).toEqual([]);
    expect(
      sample(families, 'org_breaker_state', { org_breaker_name: 'flaky-upstream' })?.[0]?.value,
    ).toBe(0);
    const attempts = sample(families, 'org_breaker_call_duration', {
      org_breaker_name: 'flaky-upstream',
    });
    expect(attempts?.find((s) => s.name.endsWith('_count'))?.value).toBe(3);
    // cache: getOrSet by result and tier.
    const lookups = (labels: Record<string, string>) =>
      sample(families, 'org_cache_requests', {
        org_cache_namespace: 'example-service',
        org_cache_operation: 'getOrSet',
        ...labels,
      })?.[0]?.value;
    expect(lookups({ org_cache_result: 'miss' })).toBe(1);
    expect(lookups({ org_cache_result: 'hit', org_cache_tier: 'l1' })).toBe(2);

    // The status page reads the same figures: its counts are these metrics, not its own.
    const status = (await (await fetch(`${base}/status.json`)).json()) as {
      breakers: { name: string; calls: Record<string, number> | null }[];
      cache: { l1: number; l2: number; miss: number; hitRatio: number | null };
    };
    expect(status.breakers.find((b) => b.name === 'flaky-upstream')?.calls).toEqual({
      success: 3,
      failure: 0,
      timeout: 0,
      rejected: 0,
      fallback: 0,
    });
    expect(status.cache).toMatchObject({ l1: 2, l2: 0, miss: 1 });
    expect(status.cache.hitRatio).toBeCloseTo(2 / 3);

    // The server's own: a histogram by route template, never by the raw path.
    const http = families.find((f) => f.name === 'http_server_request_duration');
    expect(http?.type).toBe('histogram');
    const count = (labels: Record<string, string>) =>
      sample(families, 'http_server_request_duration', labels)?.find((s) =>
        s.name.endsWith('_count'),
      )?.value;
    expect(
      count({
        http_request_method: 'PUT',
        http_route: '/storage/uploads',
        http_response_status_code: '200',
      }),
    ).toBe(1);
    expect(count({ http_route: '/rate-limit/quote', http_response_status_code: '429' })).toBe(1);
    const routes = new Set(http?.samples.map((s) => s.labels.http_route));
    expect(routes.has('/no/such/route/42')).toBe(false);
    expect(
      http?.samples.some(
        (s) => s.labels.http_response_status_code === '404' && s.labels.http_route === undefined,
      ),
    ).toBe(true);
    // No key, token or secret in any label.
    const labels = JSON.stringify(families.flatMap((f) => f.samples.map((s) => s.labels)));
    expect(labels).not.toContain(pair.access_token.slice(0, 20));
    expect(labels).not.toContain('m/one.txt');
  });
});

describe('telemetry switches', () => {
  it('GET /metrics is not rate-limited (a scraper is not a client)', async () => {
    const statuses = new Set<number>();
    for (let i = 0; i < 130; i++) statuses.add((await fetch(`${base}/metrics`)).status);
    expect([...statuses]).toEqual([200]);
  });
});
