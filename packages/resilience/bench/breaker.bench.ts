/**
 * Per-call cost of a breaker on the success path: @org/resilience against raw opossum 9 and
 * cockatiel 3 in one process, with a 10 s timeout armed on every call in all three (opossum's
 * default), and of `retry` against cockatiel's retry when the first attempt succeeds.
 *
 *   pnpm --filter @org/resilience bench
 */

import { breakers, createBreaker, retry } from '@org/resilience';
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

const bench = new Bench({ time: 1500, warmupTime: 300 });
bench
  .add('opossum 9 fire', () => raw.fire(1))
  .add('@org/resilience fire', () => ours.fire(1))
  .add('@org/resilience fire (openai preset)', () => oursConsecutive.fire(1))
  .add('cockatiel 3 timeout+breaker', () => cockatiel.execute(() => work(1)))
  .add('@org/resilience retry (1st succeeds)', () => retry(() => work(1)))
  .add('cockatiel 3 retry (1st succeeds)', () => cockatielRetry.execute(() => work(1)));

await bench.run();

const hz = (name: string) =>
  bench.tasks.find((t) => t.name === name)?.result?.throughput.mean ?? Number.NaN;
const base = hz('opossum 9 fire');
const rows = bench.tasks.map((t) => {
  const ops = t.result?.throughput.mean ?? Number.NaN;
  return {
    task: t.name,
    'ops/s': Math.round(ops).toLocaleString('en-US'),
    'time vs opossum': (base / ops).toFixed(2),
  };
});
console.table(rows);
const retryRatio =
  hz('cockatiel 3 retry (1st succeeds)') / hz('@org/resilience retry (1st succeeds)');
console.log(
  `per-call cost, @org/resilience / opossum: ${(base / hz('@org/resilience fire')).toFixed(2)}x (goal <= 1.15x)`,
);
console.log(`retry per-call cost, @org/resilience / cockatiel: ${retryRatio.toFixed(2)}x`);
raw.shutdown();
ours.shutdown();
oursConsecutive.shutdown();
void breakers;
