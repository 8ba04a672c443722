import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { context, trace } from '@opentelemetry/api';
import { startOtel } from '@org/test-utils';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createTelemetry,
  DURATION_BOUNDARIES,
  errorType,
  isOrgError,
  OrgError,
  TimeoutError,
} from '../src/index.js';

// Declared at import time, before any SDK exists: the late registration every app may do.
const telemetry = createTelemetry(
  { name: '@org/core-test', version: '1.2.3' },
  {
    calls: { kind: 'counter', name: 'org.core_test.calls', unit: '{call}', description: 'Calls.' },
    duration: {
      kind: 'histogram',
      name: 'org.core_test.duration',
      unit: 's',
      description: 'Durations.',
      boundaries: DURATION_BOUNDARIES,
    },
    inFlight: {
      kind: 'upDownCounter',
      name: 'org.core_test.in_flight',
      unit: '{call}',
      description: 'Calls in flight.',
    },
    size: { kind: 'gauge', name: 'org.core_test.size', unit: 'By', description: 'Size.' },
  },
);

let otel: ReturnType<typeof startOtel> | undefined;
afterEach(async () => {
  await otel?.close();
  otel = undefined;
});

describe('telemetry with no SDK registered', () => {
  it('has no instruments, no tracing, and runs callbacks as plain calls', async () => {
    expect(telemetry.metrics()).toBeUndefined();
    expect(telemetry.tracing()).toBe(false);
    expect(telemetry.enabled()).toBe(false);
    expect(telemetry.withSpan('x', {}, (span) => span)).toBeUndefined();
    let recorded = false;
    const value = await telemetry.observe(
      'x',
      {},
      async (span) => (span === undefined ? 7 : 0),
      () => {
        recorded = true;
      },
    );
    expect(value).toBe(7);
    expect(recorded).toBe(false);
    const err = new Error('boom');
    expect(() =>
      telemetry.withSpan('x', {}, () => {
        throw err;
      }),
    ).toThrow(err);
  });
});

describe('telemetry with an SDK registered after import', () => {
  it('records each kind of instrument with its unit, attributes and advice', async () => {
    otel = startOtel();
    expect(telemetry.enabled()).toBe(true);
    const m = telemetry.metrics();
    expect(m).toBeDefined();
    m?.calls.add(2, { 'org.core_test.outcome': 'ok' });
    m?.calls.add(1, { 'org.core_test.outcome': 'failure' });
    m?.duration.record(0.02);
    m?.inFlight.add(3);
    m?.inFlight.add(-1);
    m?.size.record(512);
    expect(await otel.sum('org.core_test.calls', { 'org.core_test.outcome': 'ok' })).toBe(2);
    expect(await otel.sum('org.core_test.calls')).toBe(3);
    const [hist] = await otel.points('org.core_test.duration');
    expect(hist).toMatchObject({ unit: 's', value: 1, sum: 0.02 });
    expect(hist?.boundaries).toEqual(DURATION_BOUNDARIES);
    expect(await otel.sum('org.core_test.in_flight')).toBe(2);
    expect(await otel.sum('org.core_test.size')).toBe(512);
  });

  it('makes new instruments when the provider changes, and stops when it is removed', async () => {
    otel = startOtel();
    telemetry.metrics()?.calls.add(1);
    await otel.close();
    expect(telemetry.metrics()).toBeUndefined();
    otel = startOtel();
    telemetry.metrics()?.calls.add(5);
    expect(await otel.sum('org.core_test.calls')).toBe(5);
  });

  it('nests spans under the caller’s active span and makes them active for callees', async () => {
    otel = startOtel();
    const tracer = trace.getTracer('app');
    await tracer.startActiveSpan('request', async (parent) => {
      await telemetry.withSpan('org.core_test.outer', { 'org.core_test.tier': 'a' }, async () => {
        await new Promise((r) => setTimeout(r, 5));
        telemetry.withSpan('org.core_test.inner', {}, () => undefined, { kind: 'client' });
        expect(trace.getSpan(context.active())?.isRecording()).toBe(true);
      });
      parent.end();
    });
    const [outer] = otel.spans('org.core_test.outer');
    const [inner] = otel.spans('org.core_test.inner');
    const [request] = otel.spans('request');
    expect(outer?.parentSpanContext?.spanId).toBe(request?.spanContext().spanId);
    expect(inner?.parentSpanContext?.spanId).toBe(outer?.spanContext().spanId);
    expect(outer?.attributes['org.core_test.tier']).toBe('a');
    expect(outer?.kind).toBe(0); // INTERNAL
    expect(inner?.kind).toBe(2); // CLIENT
    expect(outer?.instrumentationScope).toMatchObject({ name: '@org/core-test', version: '1.2.3' });
    expect(outer?.status.code).toBe(0);
  });

  it('records a failure with its code, scrubbing the message, for sync and async callbacks', async () => {
    otel = startOtel();
    const err = new OrgError('ERR_CORE_TEST_BROKEN', 'failed for postgres://u:hunter2@db/x');
    await expect(
      telemetry.withSpan('org.core_test.async', {}, async () => {
        throw err;
      }),
    ).rejects.toBe(err);
    expect(() =>
      telemetry.withSpan('org.core_test.sync', {}, () => {
        throw new TimeoutError(50, 'The call');
      }),
    ).toThrow(TimeoutError);
    const [a] = otel.spans('org.core_test.async');
    expect(a?.status).toMatchObject({ code: 2, message: 'ERR_CORE_TEST_BROKEN' });
    expect(a?.attributes['error.type']).toBe('ERR_CORE_TEST_BROKEN');
    const event = a?.events.find((e) => e.name === 'exception');
    expect(String(event?.attributes?.['exception.message'])).not.toContain('hunter2');
    expect(event?.attributes?.['exception.type']).toBe('ERR_CORE_TEST_BROKEN');
    expect(otel.spans('org.core_test.sync')[0]?.attributes['error.type']).toBe('ERR_TIMEOUT');
  });

  it('observe times the call and hands the error to the recorder', async () => {
    otel = startOtel();
    const record = (
      m: NonNullable<ReturnType<typeof telemetry.metrics>>,
      seconds: number,
      error: unknown,
    ) =>
      m.duration.record(
        seconds,
        error === undefined
          ? { outcome: 'ok' }
          : { outcome: 'failure', 'error.type': errorType(error) },
      );
    await telemetry.observe(
      'org.core_test.op',
      {},
      () => new Promise((r) => setTimeout(r, 30)),
      record,
    );
    await expect(
      telemetry.observe(
        'org.core_test.op',
        {},
        async () => {
          throw new OrgError('ERR_CORE_TEST_X', 'x');
        },
        record,
      ),
    ).rejects.toThrow('x');
    const [ok] = await otel.points('org.core_test.duration', { outcome: 'ok' });
    expect(ok?.value).toBe(1);
    expect(ok?.sum).toBeGreaterThanOrEqual(0.025);
    expect(ok?.sum).toBeLessThan(1);
    const [bad] = await otel.points('org.core_test.duration', { 'error.type': 'ERR_CORE_TEST_X' });
    expect(bad?.value).toBe(1);
    expect(otel.spans('org.core_test.op')).toHaveLength(2);
  });

  it('a recorder that throws does not fail the operation', async () => {
    otel = startOtel();
    const out = await telemetry.observe(
      'org.core_test.op',
      {},
      async () => 'done',
      () => {
        throw new Error('bug');
      },
    );
    expect(out).toBe('done');
  });
});

describe('errorType', () => {
  it('is the code, else the class name, else _OTHER; never a message', () => {
    expect(errorType(new OrgError('ERR_CORE_X', 'msg'))).toBe('ERR_CORE_X');
    expect(errorType(Object.assign(new Error('m'), { code: 'ECONNREFUSED' }))).toBe('ECONNREFUSED');
    expect(errorType(new TypeError('m'))).toBe('TypeError');
    expect(errorType(new Error('m'))).toBe('_OTHER');
    expect(errorType('a string with a secret')).toBe('_OTHER');
    expect(errorType(Object.assign(new Error('m'), { code: 'user 42 not found' }))).toBe('_OTHER');
  });
});

describe('createTelemetry', () => {
  it('rejects a bad spec with ERR_CORE_INVALID_ARGUMENT', () => {
    const bad = [
      [{ name: '' }, {}],
      [{ name: 'p' }, { a: { kind: 'meter', name: 'org.p.a', unit: 's', description: '' } }],
      [{ name: 'p' }, { a: { kind: 'counter', name: 'Org Calls', unit: 's', description: '' } }],
      [{ name: 'p' }, { a: { kind: 'counter', name: 'org.p.a', unit: '', description: '' } }],
      [
        { name: 'p' },
        {
          a: { kind: 'counter', name: 'org.p.a', unit: 's', description: '' },
          b: { kind: 'counter', name: 'org.p.a', unit: 's', description: '' },
        },
      ],
    ] as const;
    for (const [scope, specs] of bad) {
      let caught: unknown;
      try {
        createTelemetry(scope, specs as never);
      } catch (err) {
        caught = err;
      }
      expect(isOrgError(caught, 'ERR_CORE_INVALID_ARGUMENT')).toBe(true);
    }
  });
});

describe('late registration in a fresh process', () => {
  it('an SDK whose API registry is created after the first check still receives data', () => {
    const src = join(import.meta.dirname, '..', 'src', 'index.ts');
    const code = `
      const KEY = Symbol.for('opentelemetry.js.api.1');
      const core = await import(${JSON.stringify(pathToFileURL(src).href)});
      const t = core.createTelemetry({ name: 'probe' }, {
        calls: { kind: 'counter', name: 'org.probe.calls', unit: '{call}', description: 'Calls.' },
      });
      const out = { registryAtStart: globalThis[KEY] !== undefined, before: t.metrics() === undefined };
      const { metrics } = await import('@opentelemetry/api');
      const { MeterProvider, MetricReader } = await import('@opentelemetry/sdk-metrics');
      class Reader extends MetricReader { async onShutdown() {} async onForceFlush() {} }
      const reader = new Reader();
      metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
      out.registryIsData = 'value' in Object.getOwnPropertyDescriptor(globalThis, KEY);
      t.metrics()?.calls.add(3);
      const { resourceMetrics } = await reader.collect();
      out.recorded = resourceMetrics.scopeMetrics[0]?.metrics[0]?.dataPoints[0]?.value;
      console.log(JSON.stringify(out));`;
    const stdout = execFileSync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', code],
      { cwd: join(import.meta.dirname, '..'), encoding: 'utf8' },
    );
    expect(JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}')).toEqual({
      registryAtStart: false,
      before: true,
      registryIsData: true,
      recorded: 3,
    });
  });
});

describe('the built entries with an SDK', () => {
  // The source runs under a loader; what ships is a bundle, where `require` may be a bundler's
  // shim. Both builds must reach the API once an SDK is registered, with no warning.
  let out: string;
  beforeAll(async () => {
    const { build } = await import('tsup');
    // Inside the package's node_modules, so that the API resolves as it would for an app.
    const cache = join(import.meta.dirname, '..', 'node_modules', '.cache');
    mkdirSync(cache, { recursive: true });
    out = mkdtempSync(join(cache, 'built-'));
    await build({
      config: false,
      entry: { index: join(import.meta.dirname, '..', 'src', 'index.ts') },
      format: ['esm', 'cjs'],
      outDir: out,
      target: 'node20',
      splitting: false,
      silent: true,
    });
  }, 60_000);
  afterAll(() => {
    if (out) rmSync(out, { recursive: true, force: true });
  });

  for (const format of ['esm', 'cjs'] as const) {
    it(`${format}: records to an SDK registered after the first check`, () => {
      const entry = join(out, format === 'esm' ? 'index.js' : 'index.cjs');
      const load =
        format === 'esm'
          ? `await import(${JSON.stringify(pathToFileURL(entry).href)})`
          : `(await import('node:module')).createRequire(import.meta.url)(${JSON.stringify(entry)})`;
      const code = `
        const core = ${load};
        const t = core.createTelemetry({ name: 'probe' }, {
          calls: { kind: 'counter', name: 'org.probe.calls', unit: '{call}', description: 'Calls.' },
        });
        t.metrics();
        const { metrics } = await import('@opentelemetry/api');
        const { MeterProvider, MetricReader } = await import('@opentelemetry/sdk-metrics');
        class Reader extends MetricReader { async onShutdown() {} async onForceFlush() {} }
        const reader = new Reader();
        metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
        t.metrics()?.calls.add(3);
        const { resourceMetrics } = await reader.collect();
        console.log(JSON.stringify(resourceMetrics.scopeMetrics[0]?.metrics[0]?.dataPoints[0]?.value));`;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
        cwd: join(import.meta.dirname, '..'),
        encoding: 'utf8',
      });
      expect(r.stderr).not.toContain('ORG_TELEMETRY_NO_API');
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe('3');
    }, 30_000);
  }
});
