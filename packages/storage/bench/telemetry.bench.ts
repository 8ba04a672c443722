/**
 * What telemetry costs a local put() and getBuffer() of a small object, and a put() on a driver
 * that keeps objects in a Map (so that the package's own path is measured, not the file
 * system's): this package as it is against its build from before telemetry (each bundled with
 * its own @org/core), in one process,
 * in paired rounds; first with no OpenTelemetry SDK (the target: within 2 %; a second copy of the
 * old build against the old build shows the machine's noise), then with an in-memory SDK
 * registered (the added cost per call: a span and a histogram record).
 *
 *   cd packages/storage && npx tsx bench/telemetry.bench.ts   (BENCH_BASELINE_REF=<commit>)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { addedNsPerCall, buildForBench, fineRatioRow, startOtel } from '@org/test-utils';
import { pairedRatio } from '@org/test-utils/bench';
import { build } from 'tsup';

type Module = typeof import('../src/index.js');
const builds = await buildForBench('storage', build);
const before = (await import(builds.baseline)) as Module;
const after = (await import(builds.current)) as Module;
const twin = (await import(`${pathToFileURL(builds.baseline).href}?twin`)) as Module;

const root = await mkdtemp(join(tmpdir(), 'org-storage-otel-bench-'));
const body = Buffer.alloc(4096, 7);
let n = 0;
type Driver = NonNullable<Parameters<Module['createStorage']>[0]>['driver'];
// Objects in a Map: only what the package does around the driver is left to measure.
const mapDriver = (): Driver => {
  const objects = new Map<string, Buffer>();
  const info = (key: string) => ({
    key,
    size: objects.get(key)?.length ?? 0,
    lastModified: new Date(0),
  });
  return {
    name: 'map',
    async put(key, b) {
      const bytes = Buffer.isBuffer(b) ? b : Buffer.from(String(b));
      objects.set(key, bytes);
      return { key, size: bytes.length, sha256: '' };
    },
    async getStream(key) {
      return Readable.from([objects.get(key) ?? Buffer.alloc(0)]);
    },
    async head(key) {
      return info(key);
    },
    async delete(key) {
      objects.delete(key);
    },
    async list() {
      return { items: [...objects.keys()].map(info) };
    },
    async signedUrl(key) {
      return `map:${key}`;
    },
    async health() {
      return { available: true, latencyMs: 0, backend: 'map' };
    },
  } as Driver;
};

function tasks(m: Module, name: string) {
  const storage = m.createStorage({ local: { root: join(root, name), fsync: false } });
  const memory = m.createStorage({ driver: mapDriver() });
  return {
    put: async () => {
      await storage.put(`k/${n++ % 64}.bin`, body);
    },
    getBuffer: async () => {
      await storage.getBuffer('k/0.bin');
    },
    'put on a Map driver': async () => {
      for (let i = 0; i < 20; i++) await memory.put(`k/${i}.bin`, body);
    },
  };
}

console.log(`baseline: ${builds.ref.slice(0, 12)} (before telemetry)`);
console.log('| call | now ÷ before (median) | range | with the SDK: added per call |');
console.log('|---|---|---|---|');
const [b, a, t] = [tasks(before, 'b'), tasks(after, 'a'), tasks(twin, 't')];
for (const x of [a, b, t]) await x.put();
try {
  for (const op of ['put on a Map driver', 'put', 'getBuffer'] as const) {
    const o = { perIteration: op === 'put on a Map driver' ? 20 : 1 };
    const label = op === 'put on a Map driver' ? `${op} (4 KiB)` : `local ${op} (4 KiB)`;
    const aa = await pairedRatio(t[op], b[op], o);
    console.log(fineRatioRow(`${label}, no SDK: before ÷ before (noise)`, aa, ''));
    const off = await pairedRatio(a[op], b[op], o);
    const otel = startOtel();
    const on = await pairedRatio(a[op], b[op], o);
    await otel.close();
    const ns = `${addedNsPerCall(on).toFixed(0)} ns`;
    console.log(fineRatioRow(`${label}, no SDK`, off, ns));
  }
} finally {
  await rm(root, { recursive: true, force: true });
}
