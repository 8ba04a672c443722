/**
 * What telemetry costs a local put() and getBuffer() of a small object: this package as it is
 * against its build from before telemetry (each bundled with its own @org/core), in one process,
 * in paired rounds; first with no OpenTelemetry SDK (the target: within 2 %; a second copy of the
 * old build against the old build shows the machine's noise), then with an in-memory SDK
 * registered (the added cost per call: a span and a histogram record).
 *
 *   cd packages/storage && npx tsx bench/telemetry.bench.ts   (BENCH_BASELINE_REF=<commit>)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
function tasks(m: Module, name: string) {
  const storage = m.createStorage({ local: { root: join(root, name), fsync: false } });
  return {
    put: async () => {
      await storage.put(`k/${n++ % 64}.bin`, body);
    },
    getBuffer: async () => {
      await storage.getBuffer('k/0.bin');
    },
  };
}

console.log(`baseline: ${builds.ref.slice(0, 12)} (before telemetry)`);
console.log('| call | now ÷ before (median) | range | with the SDK: added per call |');
console.log('|---|---|---|---|');
const [b, a, t] = [tasks(before, 'b'), tasks(after, 'a'), tasks(twin, 't')];
for (const x of [a, b, t]) await x.put();
try {
  for (const op of ['put', 'getBuffer'] as const) {
    const aa = await pairedRatio(t[op], b[op]);
    console.log(fineRatioRow(`local ${op} (4 KiB), no SDK: before ÷ before (noise)`, aa, ''));
    const off = await pairedRatio(a[op], b[op]);
    const otel = startOtel();
    const on = await pairedRatio(a[op], b[op]);
    await otel.close();
    const ns = `${addedNsPerCall(on).toFixed(0)} ns`;
    console.log(fineRatioRow(`local ${op} (4 KiB), no SDK`, off, ns));
  }
} finally {
  await rm(root, { recursive: true, force: true });
}
