/**
 * CPU time @org/cache itself spends per L2 hit, with Redis out of the picture: `get` on a cache
 * with no L1 over a driver that answers from a Map at once. It shows what the cache adds on top
 * of a client, and what arming no timer of its own saves when the driver bounds its commands
 * (`commandDeadline`, as the Redis driver does through ioredis' `commandTimeout`), and what the
 * copy each caller of one shared `getOrSet` load gets costs next to a parse of its own.
 *
 *   pnpm --filter @org/cache run bench:overhead      (BENCH_CALLS, default 200000 per round)
 */
import { type CacheDriver, createCache } from '../src/index.js';
import { cloneDecoded } from '../src/json-clone.js';
import { value } from './sample-value.js';

const store = new Map<string, string>();
const driver = (deadline: boolean): CacheDriver => ({
  name: 'map',
  ...(deadline ? { commandDeadline: () => 250 } : {}),
  get: (k) => Promise.resolve(store.get(k)),
  set: async (k, v) => {
    store.set(k, v);
  },
  delete: async (k) => store.delete(k),
  clear: async () => {},
});
const timer = createCache({ driver: driver(false), namespace: 'o', memory: false });
const bounded = createCache({ driver: driver(true), namespace: 'o', memory: false });
await timer.set('k', value, { ttl: '10m' });
const text = JSON.stringify(value);
const parsed: unknown = JSON.parse(text);

const N = Number(process.env.BENCH_CALLS ?? 200_000);
const cpuPerCall = async (fn: () => unknown) => {
  for (let i = 0; i < 5_000; i++) await fn();
  const start = process.cpuUsage();
  for (let i = 0; i < N; i++) await fn();
  const d = process.cpuUsage(start);
  return (d.user + d.system) / N;
};
const rows: Record<string, number[]> = { timer: [], bounded: [], parse: [], copy: [] };
for (let round = 0; round < 7; round++) {
  rows.timer?.push(await cpuPerCall(() => timer.get('k')));
  rows.bounded?.push(await cpuPerCall(() => bounded.get('k')));
  rows.parse?.push(await cpuPerCall(() => JSON.parse(text)));
  rows.copy?.push(await cpuPerCall(() => cloneDecoded(parsed)));
}
const median = (xs: number[] = []) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
console.log(`\nNode ${process.version}, ${N} calls × 7 rounds, median CPU µs per call\n`);
console.log('| L2 hit over an in-process driver | CPU µs/call |');
console.log('|---|---:|');
console.log(`| cache arms its own timer per call | ${median(rows.timer).toFixed(2)} |`);
console.log(
  `| driver bounds the call (\`commandDeadline\`) | ${median(rows.bounded).toFixed(2)} |`,
);
console.log(
  `| of which \`JSON.parse\` of the value (the caller's copy) | ${median(rows.parse).toFixed(2)} |`,
);
console.log(
  `| a copy of the parsed value instead (each caller of one shared \`getOrSet\` load) | ${median(rows.copy).toFixed(2)} |`,
);
