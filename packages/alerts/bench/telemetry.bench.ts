/**
 * What telemetry costs captureException() during an incident (the same fingerprint again and
 * again, held back by the throttle: the path a hot loop of errors takes): this package as it is
 * against its build from before telemetry (each bundled with its own @org/core), in one process,
 * in paired rounds; first with no OpenTelemetry SDK (the target: within 2 %; a second copy of the
 * old build against the old build shows the machine's noise), then with an in-memory SDK
 * registered (the added cost per call).
 *
 *   cd packages/alerts && npx tsx bench/telemetry.bench.ts   (BENCH_BASELINE_REF=<commit>)
 */
import { pathToFileURL } from 'node:url';
import { addedNsPerCall, buildForBench, fineRatioRow, startOtel } from '@org/test-utils';
import { pairedRatio } from '@org/test-utils/bench';
import { build } from 'tsup';

type Module = typeof import('../src/index.js');
const builds = await buildForBench('alerts', build);
const before = (await import(builds.baseline)) as Module;
const after = (await import(builds.current)) as Module;
const twin = (await import(`${pathToFileURL(builds.baseline).href}?twin`)) as Module;

const PER = 100;
const err = new Error('connect ECONNREFUSED 10.0.0.7:5432');
function task(m: Module) {
  // No DSN: stderr; the first `max` events go out, every later one is held back.
  const alerts = m.createAlerts({ throttle: { max: 1, window: '1h' } });
  alerts.captureException(err, { fingerprint: ['db'] });
  return async () => {
    for (let i = 0; i < PER; i++) alerts.captureException(err, { fingerprint: ['db'] });
  };
}

console.log(`baseline: ${builds.ref.slice(0, 12)} (before telemetry)`);
console.log('| call | now ÷ before (median) | range | with the SDK: added per call |');
console.log('|---|---|---|---|');
const o = { perIteration: PER };
const [b, a, t] = [task(before), task(after), task(twin)];
const aa = await pairedRatio(t, b, o);
console.log(fineRatioRow('captureException, throttled, no SDK: before ÷ before (noise)', aa, ''));
const off = await pairedRatio(a, b, o);
const otel = startOtel();
const on = await pairedRatio(a, b, o);
await otel.close();
console.log(
  fineRatioRow('captureException, throttled, no SDK', off, `${addedNsPerCall(on).toFixed(0)} ns`),
);
