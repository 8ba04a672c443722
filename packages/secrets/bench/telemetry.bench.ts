/**
 * What telemetry costs a cached get() (the hot path: no telemetry code runs on it) and a fetch
 * from the provider (refresh() on the in-process env provider, so that the wrapper is what is
 * measured, not a network): this package as it is against its build from before telemetry (each
 * bundled with its own @org/core), in one process, in paired rounds; first with no
 * OpenTelemetry SDK (the target: within 2 %; a second copy of the old build against the old build
 * shows the machine's noise), then with an in-memory SDK registered (the added cost per call).
 *
 *   cd packages/secrets && npx tsx bench/telemetry.bench.ts   (BENCH_BASELINE_REF=<commit>)
 */
import { pathToFileURL } from 'node:url';
import { addedNsPerCall, buildForBench, fineRatioRow, startOtel } from '@org/test-utils';
import { pairedRatio } from '@org/test-utils/bench';
import { build } from 'tsup';

type Module = typeof import('../src/index.js');
const builds = await buildForBench('secrets', build);
const before = (await import(builds.baseline)) as Module;
const after = (await import(builds.current)) as Module;
const twin = (await import(`${pathToFileURL(builds.baseline).href}?twin`)) as Module;

const PER = 20;
const env = { DB_PASSWORD: 'x'.repeat(32) };
async function tasks(m: Module) {
  const secrets = m.createSecrets({ provider: m.envProvider({ env }) });
  await secrets.get('db-password');
  return {
    'cached get': async () => {
      for (let i = 0; i < PER; i++) await secrets.get('db-password');
    },
    'fetch (refresh, env provider)': async () => {
      for (let i = 0; i < PER; i++) await secrets.refresh('db-password');
    },
  };
}

console.log(`baseline: ${builds.ref.slice(0, 12)} (before telemetry)`);
console.log('| call | now ÷ before (median) | range | with the SDK: added per call |');
console.log('|---|---|---|---|');
const [b, a, t] = await Promise.all([tasks(before), tasks(after), tasks(twin)]);
for (const op of ['cached get', 'fetch (refresh, env provider)'] as const) {
  const o = { perIteration: PER };
  const aa = await pairedRatio(t[op], b[op], o);
  console.log(fineRatioRow(`${op}, no SDK: before ÷ before (noise)`, aa, ''));
  const off = await pairedRatio(a[op], b[op], o);
  const otel = startOtel();
  const on = await pairedRatio(a[op], b[op], o);
  await otel.close();
  console.log(fineRatioRow(`${op}, no SDK`, off, `${addedNsPerCall(on).toFixed(0)} ns`));
}
