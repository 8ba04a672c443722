/**
 * What telemetry costs the cache's hot paths: this package as it is against its build from the
 * commit before its telemetry (each bundled with its own @org/core), in one process, in paired
 * rounds; first with no OpenTelemetry SDK (the target: within the noise, which a second copy of
 * the old build against the old build shows), then with an in-memory SDK registered (the added
 * cost per call).
 *
 * Rows: `get` L1 hits (memory only), `getOrSet` L1 hits, and `get` L2 hits with no L1 over a
 * driver that answers from a Map (the cache's own L2 path, with Redis's round trip left out).
 *
 *   cd packages/cache && BENCH_ROUNDS=25 npx tsx bench/telemetry.bench.ts
 *   (BENCH_BASELINE_REF=<commit>: default, the parent of the commit that added src/telemetry.ts;
 *   BENCH_ONLY=<part of a row's name>)
 */
import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { addedNsPerCall, buildForBench, fineRatioRow, startOtel } from '@org/test-utils';
import { pairedRatio } from '@org/test-utils/bench';
import { build } from 'tsup';
import { value } from './sample-value.js';

const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8' }).trim();
const added = git('log', '--diff-filter=A', '--format=%H', '--', 'src/telemetry.ts')
  .split('\n')
  .at(-1);
const ref = process.env.BENCH_BASELINE_REF ?? (added ? `${added}^` : undefined);

type Module = typeof import('../src/index.js');
const builds = await buildForBench('cache', build, ref);
const before = (await import(builds.baseline)) as Module;
const after = (await import(builds.current)) as Module;
// A second instance of the baseline: its row against the baseline is this machine's noise.
const twin = (await import(`${pathToFileURL(builds.baseline).href}?twin`)) as Module;

const PER = 100;
const KEYS = Array.from({ length: PER }, (_, i) => `contractor:${i}`);
type Cache = ReturnType<Module['createCache']>;
type Driver = NonNullable<Parameters<Module['createCache']>[0]>['driver'];

function mapDriver(): Driver {
  const store = new Map<string, string>();
  return {
    name: 'map',
    commandDeadline: () => 250,
    get: (k) => Promise.resolve(store.get(k)),
    set: async (k, v) => {
      store.set(k, v);
    },
    delete: async (k) => store.delete(k),
    clear: async () => {},
  } as Driver;
}

async function tasks(m: Module) {
  const l1 = m.createCache({ namespace: 'b', ttl: '1h' });
  const l2 = m.createCache({ namespace: 'b', ttl: '1h', driver: mapDriver(), memory: false });
  for (const k of KEYS) {
    await l1.set(k, value);
    await l2.set(k, value);
  }
  const loader = async () => value;
  const gets = (c: Cache) => async () => {
    for (const k of KEYS) await c.get(k);
  };
  return {
    'get, L1 hit': gets(l1),
    'getOrSet, L1 hit': async () => {
      for (const k of KEYS) await l1.getOrSet(k, loader);
    },
    'get, L2 hit over a Map driver (no L1)': gets(l2),
  };
}

const [b, a, t] = [await tasks(before), await tasks(after), await tasks(twin)];
console.log(`baseline: ${builds.ref.slice(0, 12)} (before the cache's telemetry)`);
console.log(
  `Node ${process.version}, ${process.env.BENCH_ROUNDS ?? 9} paired rounds × 200 ms per task; load average ${(
    await import('node:os')
  )
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(', ')}`,
);
console.log(
  '| call | now ÷ before, no SDK (median) | range | noise: before ÷ before | added per call with an SDK |',
);
console.log('|---|---|---|---|---|');
const o = { perIteration: PER };
const only = process.env.BENCH_ONLY;
const ops = (Object.keys(a) as (keyof typeof a)[]).filter((k) => !only || k.includes(only));
// Every row with no SDK first: a path once run with an SDK keeps that type feedback, which an
// app that never registers one would not have.
const rows = [];
for (const op of ops) {
  const aa = await pairedRatio(t[op], b[op], o);
  const off = await pairedRatio(a[op], b[op], o);
  rows.push({ op, aa, off });
}
const otel = startOtel();
for (const row of rows) {
  const on = await pairedRatio(a[row.op], b[row.op], o);
  const noise = `${row.aa.median.toFixed(3)}× (${row.aa.min.toFixed(3)}–${row.aa.max.toFixed(3)}×)`;
  console.log(fineRatioRow(row.op, row.off, noise, `${addedNsPerCall(on).toFixed(0)} ns`));
}
// The SDK did record: a row with nothing recorded would show no cost and prove nothing.
const recorded = await otel.sum('org.cache.requests');
await otel.close();
if (recorded === 0) throw new Error('the current build recorded nothing with the SDK registered');
