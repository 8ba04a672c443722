/**
 * Per-call cost of a breaker on the success path: @org/resilience against raw opossum 9 and
 * cockatiel 3 in one process, with a 10 s timeout armed on every call in all three (opossum's
 * default), and of `retry` against cockatiel's retry when the first attempt succeeds.
 *
 *   pnpm --filter @org/resilience bench
 */

import { createBreaker, retry } from '@org/resilience';
import {
  ConsecutiveBreaker,
  circuitBreaker,
  retry as cRetry,
  ExponentialBackoff,
  handleAll,
  TimeoutStrategy,
  timeout,
  wrap,
} from 'cockatiel';
import CircuitBreaker from 'opossum';
import { Bench } from 'tinybench';

const work = async (x: number) => x + 1;

const raw = new CircuitBreaker(work, { timeout: 10_000 });
const ours = createBreaker((_ctx, x: number) => work(x), { timeout: 10_000, registry: false });
const oursConsecutive = createBreaker((_ctx, x: number) => work(x), {
  preset: 'openai',
  timeout: 10_000,
  registry: false,
});
const cockatiel = wrap(
  timeout(10_000, TimeoutStrategy.Cooperative),
  circuitBreaker(handleAll, { halfOpenAfter: 30_000, breaker: new ConsecutiveBreaker(5) }),
);
const cockatielRetry = cRetry(handleAll, { maxAttempts: 3, backoff: new ExponentialBackoff() });

const tasks: [string, () => unknown][] = [
  ['opossum 9 fire', () => raw.fire(1)],
  ['@org/resilience fire', () => ours.fire(1)],
  ['@org/resilience fire (openai preset)', () => oursConsecutive.fire(1)],
  ['cockatiel 3 timeout+breaker', () => cockatiel.execute(() => work(1))],
  ['@org/resilience retry (1st succeeds)', () => retry(() => work(1))],
  ['cockatiel 3 retry (1st succeeds)', () => cockatielRetry.execute(() => work(1))],
];

// Several rounds, each in a new order, and the median of each task's throughput: on a small
// shared machine one round's order and GC timing move single figures by 10–20 %.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const samples = new Map<string, number[]>(tasks.map(([name]) => [name, []]));
for (let round = 0; round < ROUNDS; round++) {
  const bench = new Bench({ time: 500, warmupTime: 150 });
  const order = tasks.map((_t, i) => tasks[(i + round) % tasks.length] as (typeof tasks)[number]);
  for (const [name, fn] of order) bench.add(name, fn);
  await bench.run();
  for (const t of bench.tasks) samples.get(t.name)?.push(t.result?.throughput.mean ?? Number.NaN);
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};
const hz = (name: string) => median(samples.get(name) ?? []);
const base = hz('opossum 9 fire');
console.table(
  tasks.map(([name]) => ({
    task: name,
    'ops/s (median)': Math.round(hz(name)).toLocaleString('en-US'),
    'time vs opossum': (base / hz(name)).toFixed(2),
  })),
);
const retryRatio =
  hz('cockatiel 3 retry (1st succeeds)') / hz('@org/resilience retry (1st succeeds)');
console.log(
  `per-call cost, @org/resilience / opossum: ${(base / hz('@org/resilience fire')).toFixed(2)}x (goal <= 1.15x), median of ${ROUNDS} rounds`,
);
console.log(`retry per-call cost, @org/resilience / cockatiel: ${retryRatio.toFixed(2)}x`);
raw.shutdown();
await ours.close();
await oursConsecutive.close();
