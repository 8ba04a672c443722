/**
 * Per-call cost of a breaker on the success path: @org/resilience against raw opossum 9 and
 * cockatiel 3 in one process, with a 10 s timeout armed on every call in all three (opossum's
 * default), and of `retry` against cockatiel's retry when the first attempt succeeds.
 *
 * Each row is the median of paired alternating rounds (ours and the anchor side by side in one
 * tinybench run, the order flipped each round) with the range over rounds: throughput ours ÷
 * anchor, so ≥ 1 means ours is at least as fast.
 *
 *   pnpm --filter @org/resilience bench        (BENCH_ROUNDS=9 by default)
 */

import { createBreaker, retry } from '@org/resilience';
import { formatRatioRow, type PairedResult, pairedRatio } from '@org/test-utils/bench';
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

const work = async (x: number) => x + 1;

const raw = new CircuitBreaker(work, { timeout: 10_000 });
const ours = createBreaker((_ctx, x: number) => work(x), { timeout: 10_000, registry: false });
const oursConsecutive = createBreaker((_ctx, x: number) => work(x), {
  preset: 'openai',
  timeout: 10_000,
  registry: false,
});
// What two guarantees cost: the timer armed on every call, and the signal made when fn reads it.
const untimed = createBreaker((_ctx, x: number) => work(x), { timeout: false, registry: false });
const readsSignal = createBreaker((ctx, x: number) => (ctx.signal.aborted ? 0 : work(x)), {
  timeout: 10_000,
  registry: false,
});
const cockatiel = wrap(
  timeout(10_000, TimeoutStrategy.Cooperative),
  circuitBreaker(handleAll, { halfOpenAfter: 30_000, breaker: new ConsecutiveBreaker(5) }),
);
const cockatielRetry = cRetry(handleAll, { maxAttempts: 3, backoff: new ExponentialBackoff() });

// Each row: [task, ours, anchor, the anchor's name, goal].
const rows: [string, () => Promise<unknown>, () => Promise<unknown>, string, string][] = [
  ['`fire`', async () => ours.fire(1), async () => raw.fire(1), 'opossum 9 `fire`', '≥ 0.95×'],
  [
    '`fire`, `openai` preset',
    async () => oursConsecutive.fire(1),
    async () => raw.fire(1),
    'opossum 9 `fire`',
    '≥ 0.95×',
  ],
  [
    '`fire`',
    async () => ours.fire(1),
    async () => cockatiel.execute(() => work(1)),
    'cockatiel 3 timeout + breaker',
    '≥ 1×',
  ],
  [
    '`fire` (10 s timeout)',
    async () => ours.fire(1),
    async () => untimed.fire(1),
    '`fire` with `timeout: false`',
    'the timer’s cost',
  ],
  [
    '`fire`, `fn` reads `ctx.signal`',
    async () => readsSignal.fire(1),
    async () => ours.fire(1),
    '`fire`, `fn` does not',
    'the signal’s cost',
  ],
  [
    '`retry`, first attempt succeeds',
    async () => retry(() => work(1)),
    async () => cockatielRetry.execute(() => work(1)),
    'cockatiel 3 `retry`',
    '≥ 1×',
  ],
];

const rounds = Number(process.env.BENCH_ROUNDS ?? 9);
const results: [string, PairedResult][] = [];
for (const [task, oursTask, anchor, anchorName, goal] of rows) {
  const r = await pairedRatio(oursTask, anchor, { rounds });
  const row = formatRatioRow(`${task} vs ${anchorName}`, r, goal);
  results.push([row, r]);
}
console.log(`Node ${process.version}, ${rounds} paired rounds per row\n`);
console.log('| @org/resilience vs anchor | ours ÷ anchor (median) | range | goal |');
console.log('|---|---:|---:|---:|');
for (const [row] of results) console.log(row);
console.log('');
for (const [row, r] of results) {
  const name = row.split(' | ')[0]?.slice(2);
  console.log(
    `${name}: ours ${Math.round(r.oursHz).toLocaleString('en-US')}/s, anchor ${Math.round(r.anchorHz).toLocaleString('en-US')}/s (context only)`,
  );
}
raw.shutdown();
await ours.close();
await oursConsecutive.close();
await untimed.close();
await readsSignal.close();
