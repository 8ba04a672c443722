/**
 * What telemetry costs verify() and sign(): this package as it is against its build from before
 * telemetry (each bundled with its own @org/core), in one process, in paired rounds; first with no
 * OpenTelemetry SDK (the target: within 2 %; a second copy of the old build against the old build
 * shows the machine's noise), then with an in-memory SDK registered (the added cost per call).
 *
 *   cd packages/key-rotation && npx tsx bench/telemetry.bench.ts   (BENCH_BASELINE_REF=<commit>)
 */
import { pathToFileURL } from 'node:url';
import { addedNsPerCall, buildForBench, fineRatioRow, startOtel } from '@org/test-utils';
import { pairedRatio } from '@org/test-utils/bench';
import { build } from 'tsup';

type Module = typeof import('../src/index.js');
const builds = await buildForBench('key-rotation', build);
const before = (await import(builds.baseline)) as Module;
const after = (await import(builds.current)) as Module;
const twin = (await import(`${pathToFileURL(builds.baseline).href}?twin`)) as Module;

const PER = 20;
async function tasks(m: Module, alg: 'HS256' | 'ES256') {
  const ring = await m.createKeyRing({ algorithm: alg, refreshInterval: 0 });
  const token = await ring.sign({ sub: 'user-1', scope: 'read' }, { expiresIn: '15m' });
  return {
    verify: async () => {
      for (let i = 0; i < PER; i++) await ring.verify(token);
    },
    sign: async () => {
      for (let i = 0; i < PER; i++) await ring.sign({ scope: 'read' }, { subject: 'user-1' });
    },
  };
}

console.log(`baseline: ${builds.ref.slice(0, 12)} (before telemetry)`);
console.log('| call | now ÷ before (median) | range | with the SDK: added per call |');
console.log('|---|---|---|---|');
const o = { perIteration: PER };
for (const alg of ['HS256', 'ES256'] as const) {
  const [b, a, t] = await Promise.all([tasks(before, alg), tasks(after, alg), tasks(twin, alg)]);
  for (const op of ['verify', 'sign'] as const) {
    const aa = await pairedRatio(t[op], b[op], o);
    console.log(fineRatioRow(`${alg} ${op}, no SDK: before ÷ before (noise)`, aa, ''));
    const off = await pairedRatio(a[op], b[op], o);
    const otel = startOtel();
    const on = await pairedRatio(a[op], b[op], o);
    await otel.close();
    const ns = `${addedNsPerCall(on).toFixed(0)} ns`;
    console.log(fineRatioRow(`${alg} ${op}, no SDK`, off, ns));
  }
}
