import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { metrics } from '@opentelemetry/api';
import { AggregationTemporality, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { startOtel } from '@org/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { createTelemetry, isOrgError } from '../src/index.js';

// Declared at import time, before any SDK exists: the late registration every app may do.
const telemetry = createTelemetry(
  { name: '@org/core-observable-test', version: '1.0.0' },
  {
    calls: { kind: 'counter', name: 'org.obs_test.calls', unit: '{call}', description: 'Calls.' },
    size: {
      kind: 'observableGauge',
      name: 'org.obs_test.size',
      unit: '{entry}',
      description: 'Entries.',
    },
    total: {
      kind: 'observableCounter',
      name: 'org.obs_test.total',
      unit: 'By',
      description: 'Bytes so far.',
    },
    queued: {
      kind: 'observableUpDownCounter',
      name: 'org.obs_test.queued',
      unit: '{job}',
      description: 'Jobs queued.',
    },
  },
);

/** An object a package would observe: a store with a size. */
class Store {
  size = 0;
  constructor(readonly name: string) {}
}
const observeSize = (store: Store) =>
  telemetry.addCallback('size', store, (s, result) =>
    result.observe(s.size, { 'org.obs_test.store': s.name }),
  );

/** A reader collecting on demand, with delta temporality for every instrument. */
class DeltaReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.DELTA });
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

let otel: ReturnType<typeof startOtel> | undefined;
const removers: (() => void)[] = [];
afterEach(async () => {
  for (const remove of removers.splice(0)) remove();
  await otel?.close();
  otel = undefined;
});

/** The registration is seen at once; the instruments are made in the microtask after it. */
async function registerSdk() {
  otel = startOtel();
  await Promise.resolve();
  return otel;
}

const sizes = async (o: NonNullable<typeof otel>) =>
  Object.fromEntries(
    (await o.points('org.obs_test.size')).map((p) => [p.attributes['org.obs_test.store'], p.value]),
  );

describe('observable instruments', () => {
  it('with no SDK, keeps the source and never calls it', async () => {
    let calls = 0;
    const remove = telemetry.addCallback('size', new Store('idle'), () => {
      calls++;
    });
    await new Promise((r) => setTimeout(r, 5));
    expect(calls).toBe(0);
    expect(telemetry.metrics()).toBeUndefined();
    remove();
    remove(); // idempotent
  });

  it('reads sources added before the SDK was registered, at each collection, with nothing recorded in between', async () => {
    const a = new Store('a');
    const b = new Store('b');
    a.size = 3;
    removers.push(observeSize(a), observeSize(b));
    const o = await registerSdk();
    expect(await sizes(o)).toEqual({ a: 3, b: 0 });
    a.size = 7;
    b.size = 1;
    expect(await sizes(o)).toEqual({ a: 7, b: 1 });
    const [point] = await o.points('org.obs_test.size', { 'org.obs_test.store': 'a' });
    expect(point?.unit).toBe('{entry}');
  });

  it('reads a source added while an SDK is registered, and stops reading it once removed', async () => {
    const o = await registerSdk();
    const c = new Store('c');
    c.size = 5;
    const remove = observeSize(c);
    expect(await sizes(o)).toEqual({ c: 5 });
    remove();
    c.size = 8;
    // A cumulative reader (the SDK's default) repeats a series' last value once no callback
    // reports it: the value no longer moves.
    expect(await sizes(o)).toEqual({ c: 5 });
    // A provider registered now never sees it.
    await o.close();
    expect(await sizes(await registerSdk())).toEqual({});
  });

  it('a delta reader exports only what the sources report, so a removed source is gone', async () => {
    const reader = new DeltaReader();
    const provider = new MeterProvider({ readers: [reader] });
    metrics.setGlobalMeterProvider(provider);
    try {
      await Promise.resolve();
      const e = new Store('e');
      e.size = 6;
      const remove = observeSize(e);
      const collect = async () => {
        const { resourceMetrics } = await reader.collect();
        return resourceMetrics.scopeMetrics
          .flatMap((s) => s.metrics)
          .filter((m) => m.descriptor.name === 'org.obs_test.size')
          .flatMap((m) => m.dataPoints.map((p) => p.value));
      };
      expect(await collect()).toEqual([6]);
      remove();
      expect(await collect()).toEqual([]);
    } finally {
      metrics.disable();
      await provider.shutdown();
    }
  });

  it('moves to a provider that replaces the first, with no record in between', async () => {
    const d = new Store('d');
    d.size = 2;
    removers.push(observeSize(d));
    const first = await registerSdk();
    expect(await sizes(first)).toEqual({ d: 2 });
    await first.close();
    const second = await registerSdk();
    d.size = 9;
    expect(await sizes(second)).toEqual({ d: 9 });
  });

  it('a callback that throws loses only its own values for that collection', async () => {
    const ok = new Store('ok');
    ok.size = 4;
    removers.push(
      telemetry.addCallback('size', new Store('broken'), () => {
        throw new Error('bug in a source');
      }),
      observeSize(ok),
      telemetry.addCallback('total', ok, (s, r) => r.observe(s.size * 10)),
    );
    const o = await registerSdk();
    telemetry.metrics()?.calls.add(1);
    const all = await o.collect(); // throws on any collection error
    expect(all.find((p) => p.name === 'org.obs_test.size')?.value).toBe(4);
    expect(all.find((p) => p.name === 'org.obs_test.total')?.value).toBe(40);
    expect(all.find((p) => p.name === 'org.obs_test.calls')?.value).toBe(1);
  });

  it('observable counters report sums: monotonic and up-down', async () => {
    const job = { done: 100, queued: 3 };
    removers.push(
      telemetry.addCallback('total', job, (j, r) => r.observe(j.done)),
      telemetry.addCallback('queued', job, (j, r) => r.observe(j.queued)),
    );
    const o = await registerSdk();
    expect(await o.sum('org.obs_test.total')).toBe(100);
    expect(await o.sum('org.obs_test.queued')).toBe(3);
    job.done = 250;
    job.queued = 1;
    expect(await o.sum('org.obs_test.total')).toBe(250);
    expect(await o.sum('org.obs_test.queued')).toBe(1);
  });

  it('keeps observable instruments out of metrics(): they have nothing to record', async () => {
    await registerSdk();
    const m = telemetry.metrics();
    expect(Object.keys(m ?? {})).toEqual(['calls']);
    // @ts-expect-error an observable gauge is read through addCallback, not recorded
    expect(m?.size).toBeUndefined();
  });

  it('validates its arguments with ERR_CORE_INVALID_ARGUMENT', () => {
    const code = 'ERR_CORE_INVALID_ARGUMENT';
    const bad = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        return isOrgError(err, code) ? (err as Error).message : `other: ${String(err)}`;
      }
      return 'no error';
    };
    // @ts-expect-error a counter is no observable instrument
    expect(bad(() => telemetry.addCallback('calls', {}, () => {}))).toMatch(/observable/);
    // @ts-expect-error no such instrument
    expect(bad(() => telemetry.addCallback('nope', {}, () => {}))).toMatch(/'nope'/);
    // @ts-expect-error the target is the object read
    expect(bad(() => telemetry.addCallback('size', 42, () => {}))).toMatch(/target/);
    expect(bad(() => telemetry.addCallback('size', null as unknown as object, () => {}))).toMatch(
      /target/,
    );
    // @ts-expect-error the callback reads it
    expect(bad(() => telemetry.addCallback('size', {}, 'observe'))).toMatch(/callback/);
    expect(() =>
      createTelemetry(
        { name: 'x' },
        // @ts-expect-error no such kind
        { g: { kind: 'observable', name: 'org.x.g', unit: '1', description: '' } },
      ),
    ).toThrow(/observableGauge/);
  });
});

const run = promisify(execFile);

// A source must not keep its object alive: objects made per request and never closed would pile
// up. Measured in a fresh `node --expose-gc`.
describe('observable sources and garbage collection', () => {
  it('lets dropped objects be collected, and their sources stop being read', async () => {
    const { stdout } = await run(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', join(import.meta.dirname, 'telemetry-observable-gc.ts')],
      { cwd: join(import.meta.dirname, '..'), timeout: 60_000 },
    );
    const r = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as {
      collected: number;
      points: string[];
    };
    expect(r.collected).toBeGreaterThan(1900);
    expect(r.points).toEqual(['kept']);
  }, 90_000);
});
