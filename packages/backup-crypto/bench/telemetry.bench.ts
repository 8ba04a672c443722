/**
 * What telemetry costs encrypt() and decrypt() of a small token: this package as it is against
 * its build from before telemetry (each bundled with its own @org/core), in one process, in
 * paired rounds; first with no OpenTelemetry SDK (the target: within 2 %; a second copy of the old
 * build against the old build shows the machine's noise), then with an in-memory SDK registered
 * (the added cost per call).
 *
 *   cd packages/backup-crypto && npx tsx bench/telemetry.bench.ts   (BENCH_BASELINE_REF=<commit>)
 */
import { pathToFileURL } from 'node:url';
import { addedNsPerCall, buildForBench, fineRatioRow, startOtel } from '@org/test-utils';
import { pairedRatio } from '@org/test-utils/bench';
import { build } from 'tsup';

type Module = typeof import('../src/index.js');
const builds = await buildForBench('backup-crypto', build);
const before = (await import(builds.baseline)) as Module;
const after = (await import(builds.current)) as Module;
const twin = (await import(`${pathToFileURL(builds.baseline).href}?twin`)) as Module;

const PER = 50;
const KEY = 'cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=';
const SMALL = '{"sub":"user-1","scope":"read","n":12345}'; // a small session-sized token
function tasks(m: Module) {
  const f = new m.Fernet(KEY);
  const token = f.encrypt(SMALL);
  return {
    encrypt: async () => {
      for (let i = 0; i < PER; i++) f.encrypt(SMALL);
    },
    decrypt: async () => {
      for (let i = 0; i < PER; i++) f.decrypt(token);
    },
  };
}

console.log(`baseline: ${builds.ref.slice(0, 12)} (before telemetry)`);
console.log('| call | now ÷ before (median) | range | with the SDK: added per call |');
console.log('|---|---|---|---|');
const [b, a, t] = [tasks(before), tasks(after), tasks(twin)];
for (const op of ['encrypt', 'decrypt'] as const) {
  const o = { perIteration: PER };
  const aa = await pairedRatio(t[op], b[op], o);
  console.log(fineRatioRow(`${op} (${SMALL.length} B), no SDK: before ÷ before (noise)`, aa, ''));
  const off = await pairedRatio(a[op], b[op], o);
  const otel = startOtel();
  const on = await pairedRatio(a[op], b[op], o);
  await otel.close();
  const ns = `${addedNsPerCall(on).toFixed(0)} ns`;
  console.log(fineRatioRow(`${op} (${SMALL.length} B), no SDK`, off, ns));
}
