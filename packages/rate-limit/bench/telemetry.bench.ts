/**
 * What telemetry costs a memory check: this package as it is against its build from before
 * telemetry (each bundled with its own @org/core), in one process, in paired rounds; first with
 * no OpenTelemetry SDK (the target: within 2 %), then with an in-memory SDK registered (the
 * added cost per check, in ns).
 *
 *   cd packages/rate-limit && npx tsx bench/telemetry.bench.ts   (BENCH_BASELINE_REF=<commit>)
 */

import { pathToFileURL } from 'node:url';
import { addedNsPerCall, buildForBench, fineRatioRow, startOtel } from '@org/test-utils';
import { pairedRatio } from '@org/test-utils/bench';
import { build } from 'tsup';

type Module = typeof import('../src/index.js');
const builds = await buildForBench('rate-limit', build);
const before = (await import(builds.baseline)) as Module;
const after = (await import(builds.current)) as Module;
// A second instance of the baseline: its row against the baseline is this machine's noise.
const twin = (await import(`${pathToFileURL(builds.baseline).href}?twin`)) as Module;

const IN_FLIGHT = 100;
const ids = Array.from({ length: 10_000 }, (_, i) => `198.51.${(i >> 8) & 255}.${i & 255}`);
const task = (m: Module) => {
  const limiter = m.createRateLimiter({
    tiers: { t: { limit: 1_000_000_000, window: '1m', algorithm: 'fixed-window' } },
  });
  let cursor = 0;
  return async () => {
    const all: Promise<unknown>[] = [];
    for (let i = 0; i < IN_FLIGHT; i++) all.push(limiter.limit('t', ids[cursor++ % ids.length]!));
    await Promise.all(all);
  };
};

console.log(`baseline: ${builds.ref.slice(0, 12)} (before telemetry)`);
console.log('| call | now ÷ before (median) | range | with the SDK: added per call |');
console.log('|---|---|---|---|');
const o = { perIteration: IN_FLIGHT };
const aa = await pairedRatio(task(twin), task(before), o);
console.log(fineRatioRow('limit() on memory, no SDK: before ÷ before (noise)', aa, ''));
const off = await pairedRatio(task(after), task(before), o);
const otel = startOtel();
const on = await pairedRatio(task(after), task(before), o);
await otel.close();
console.log(fineRatioRow('limit() on memory, no SDK', off, `${addedNsPerCall(on).toFixed(0)} ns`));
