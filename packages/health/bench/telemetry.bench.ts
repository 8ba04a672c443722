/**
 * What telemetry costs an uncached report: this package as it is against its build from before
 * telemetry (each bundled with its own @org/core), in one process, in paired rounds; first with
 * no OpenTelemetry SDK (the target: within the noise row), then with an in-memory SDK registered
 * (the added cost per report, in ns). The reports run their checks every time (`cache: 0`) and
 * the checks settle at once, so that what is measured is the report path, not a dependency.
 *
 *   cd packages/health && BENCH_ROUNDS=15 npx tsx bench/telemetry.bench.ts
 *
 * The baseline is the commit before this package's src/telemetry.ts was added (or
 * BENCH_BASELINE_REF=<commit>).
 */

import { pathToFileURL } from 'node:url';
import {
  addedNsPerCall,
  buildForBench,
  commitBefore,
  fineRatioRow,
  startOtel,
} from '@org/test-utils';
import { pairedRatio } from '@org/test-utils/bench';
import { build } from 'tsup';

type Module = typeof import('../src/index.js');
const builds = await buildForBench(
  'health',
  build,
  process.env.BENCH_BASELINE_REF ?? commitBefore('src/telemetry.ts'),
);
const before = (await import(builds.baseline)) as Module;
const after = (await import(builds.current)) as Module;
// A second instance of the baseline: its row against the baseline is this machine's noise.
const twin = (await import(`${pathToFileURL(builds.baseline).href}?twin`)) as Module;

// Reports in sequence: concurrent callers would share one run.
const REPORTS = 50;
const report = (m: Module, kind: 'quick' | 'full') => {
  const health = m.createHealth({
    checks: {
      database: async () => undefined,
      cache: () => ({ status: 'ok' }),
      queue: async () => ({ status: 'warn', reason: 'backlog' }),
    },
    quick: ['database'],
    cache: 0,
  });
  return async () => {
    for (let i = 0; i < REPORTS; i++) await health[kind]();
  };
};

console.log(`baseline: ${builds.ref.slice(0, 12)} (before telemetry)`);
console.log('| report | now ÷ before (median) | range | with the SDK: added per report |');
console.log('|---|---|---|---|');
const o = { perIteration: REPORTS };
const rows = [
  ['`quick()` uncached, one check', (m: Module) => report(m, 'quick')],
  ['`full()` uncached, three checks', (m: Module) => report(m, 'full')],
] as const;
// Every row with no SDK first: a registration (even one undone) leaves the global registry and
// the record sites in a state that a process which never had an SDK is not in.
const off = [];
for (const [name, task] of rows) {
  const aa = await pairedRatio(task(twin), task(before), o);
  off.push({ name, aa, off: await pairedRatio(task(after), task(before), o) });
}
const otel = startOtel();
const on = [];
for (const [, task] of rows) on.push(await pairedRatio(task(after), task(before), o));
await otel.close();
for (const [i, r] of off.entries()) {
  console.log(fineRatioRow(`${r.name}, no SDK: before ÷ before (noise)`, r.aa, ''));
  console.log(fineRatioRow(`${r.name}, no SDK`, r.off, `${addedNsPerCall(on[i]!).toFixed(0)} ns`));
}
