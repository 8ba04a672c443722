/**
 * What telemetry costs a breaker's `fire` and `retry`: this package as it is against its build
 * from before telemetry (each bundled with its own @org/core), in one process, in paired rounds;
 * first with no OpenTelemetry SDK (the target: within the noise row), then with an in-memory SDK
 * registered (the added cost per call, in ns).
 *
 *   cd packages/resilience && BENCH_ROUNDS=15 npx tsx bench/telemetry.bench.ts
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
  'resilience',
  build,
  process.env.BENCH_BASELINE_REF ?? commitBefore('src/telemetry.ts'),
);
const before = (await import(builds.baseline)) as Module;
const after = (await import(builds.current)) as Module;
// A second instance of the baseline: its row against the baseline is this machine's noise.
const twin = (await import(`${pathToFileURL(builds.baseline).href}?twin`)) as Module;

const IN_FLIGHT = 100;
const work = async (x: number) => x + 1;
// The tuned fast path: a closed breaker, its 10 s timeout armed on every call, no signal.
const fire = (m: Module) => {
  const b = m.createBreaker((_ctx, x: number) => work(x), {
    name: 'bench',
    timeout: 10_000,
    registry: false,
  });
  return async () => {
    const all: Promise<unknown>[] = [];
    for (let i = 0; i < IN_FLIGHT; i++) all.push(b.fire(i));
    await Promise.all(all);
  };
};
// retry whose first attempt succeeds (the common case).
const retried = (m: Module) => async () => {
  const all: Promise<unknown>[] = [];
  for (let i = 0; i < IN_FLIGHT; i++) all.push(m.retry(() => work(i)));
  await Promise.all(all);
};

console.log(`baseline: ${builds.ref.slice(0, 12)} (before telemetry)`);
console.log('| call | now ÷ before (median) | range | with the SDK: added per call |');
console.log('|---|---|---|---|');
const o = { perIteration: IN_FLIGHT };
const rows = [
  ['`fire`', fire],
  ['`retry`, first attempt succeeds', retried],
] as const;
const only = process.env.BENCH_ONLY;
// Every row with no SDK first: a registration (even one undone) leaves the global registry and
// the record sites in a state that a process which never had an SDK is not in.
const off = [];
for (const [name, task] of rows.filter(([n]) => !only || n.includes(only))) {
  const aa = await pairedRatio(task(twin), task(before), o);
  off.push({ name, aa, off: await pairedRatio(task(after), task(before), o) });
}
const otel = startOtel();
const on = [];
for (const [, task] of rows.filter(([n]) => !only || n.includes(only)))
  on.push(await pairedRatio(task(after), task(before), o));
await otel.close();
for (const [i, r] of off.entries()) {
  console.log(fineRatioRow(`${r.name}, no SDK: before ÷ before (noise)`, r.aa, ''));
  console.log(fineRatioRow(`${r.name}, no SDK`, r.off, `${addedNsPerCall(on[i]!).toFixed(0)} ns`));
}
