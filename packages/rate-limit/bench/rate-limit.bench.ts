/**
 * @org/rate-limit against rate-limiter-flexible, in one process, on memory and on the same Redis
 * with 100 checks in flight, plus the memory store's peak RSS with 1M distinct ids.
 *
 *   pnpm --filter @org/rate-limit run bench      (REDIS_URL, default redis://127.0.0.1:6379)
 *
 * Throughput is compared in paired rounds: each round runs both (in alternating order) as
 * tinybench async tasks, and the ratio reported is the median of the rounds' ratios, with their
 * range. Every Redis key carries this run's id and expires within a minute.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import { Bench } from 'tinybench';
import { createRateLimiter } from '../src/index.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const TIME = Number(process.env.BENCH_TIME_MS ?? 400);
const IN_FLIGHT = 100;
const IDS = 10_000;
const POINTS = 1_000_000_000; // every check is admitted: both do the full work
const run = `bench-${randomUUID().slice(0, 8)}`;

type Check = (id: string) => Promise<unknown>;
// Client addresses, the most common rate-limit id, made once: both limiters get the same strings.
const ids = Array.from({ length: IDS }, (_, i) => `198.51.${(i >> 8) & 255}.${i & 255}`);
let cursor = 0;
const batch = (check: Check) => async () => {
  const all: Promise<unknown>[] = [];
  for (let i = 0; i < IN_FLIGHT; i++) all.push(check(ids[cursor++ % IDS]!));
  await Promise.all(all);
};

async function paired(name: string, ours: Check, theirs: Check) {
  const ratios: number[] = [];
  const opsOurs: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const bench = new Bench({ time: TIME, warmupTime: 100 });
    const pair: [string, Check][] = [
      ['@org/rate-limit', ours],
      ['rate-limiter-flexible', theirs],
    ];
    for (const [label, check] of r % 2 === 0 ? pair : pair.reverse())
      bench.add(label, batch(check));
    await bench.run();
    const hz = (label: string) => {
      const t = bench.tasks.find((x) => x.name === label)?.result;
      return (t?.throughput.mean ?? Number.NaN) * IN_FLIGHT;
    };
    ratios.push(hz('@org/rate-limit') / hz('rate-limiter-flexible'));
    opsOurs.push(hz('@org/rate-limit'));
  }
  const sorted = [...ratios].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  const ops = [...opsOurs].sort((a, b) => a - b)[Math.floor(opsOurs.length / 2)]!;
  return {
    store: name,
    'ours checks/s (median)': Math.round(ops).toLocaleString('en-US'),
    'ours ÷ rlflex (median)': median.toFixed(2),
    range: `${sorted[0]!.toFixed(2)}–${sorted.at(-1)!.toFixed(2)}`,
  };
}

const rows = [];

// ---- memory -------------------------------------------------------------------------------------
{
  const ours = createRateLimiter({
    tiers: { t: { limit: POINTS, window: '1m', algorithm: 'fixed-window' } },
  });
  const theirs = new RateLimiterMemory({ points: POINTS, duration: 60 });
  rows.push(
    await paired(
      'memory',
      (id) => ours.limit('t', id),
      (id) => theirs.consume(id),
    ),
  );
  await ours.close();
}

// ---- Redis (same server, one ioredis client each, 100 in flight) --------------------------------
{
  // Ours from the URL, as an app would pass it (auto-pipelining, bounded commands); theirs on an
  // ioredis client of its own with auto-pipelining too.
  const rlClient = new Redis(url, { enableAutoPipelining: true });
  const ours = createRateLimiter({
    tiers: { t: { limit: POINTS, window: '1m', algorithm: 'fixed-window' } },
    redis: url,
    prefix: `${run}:org:`,
    timeout: '1s',
  });
  const theirs = new RateLimiterRedis({
    storeClient: rlClient,
    points: POINTS,
    duration: 60,
    keyPrefix: `${run}:rlflex`,
  });
  await ours.limit('t', 'warm');
  await theirs.consume('warm');
  rows.push(
    await paired(
      'Redis',
      (id) => ours.limit('t', id),
      (id) => theirs.consume(id),
    ),
  );
  await ours.close();
  rlClient.disconnect();
}

console.log(`\nthroughput: ${ROUNDS} paired rounds of ${TIME} ms, ${IN_FLIGHT} checks in flight`);
console.table(rows);

// ---- memory store footprint: peak RSS of a child process -----------------------------------------
const N = Number(process.env.BENCH_IDS ?? 1_000_000);
const child = (subject: string) =>
  Number(
    execFileSync(
      process.execPath,
      [
        '--expose-gc',
        '--import',
        'tsx',
        new URL('./rss-child.ts', import.meta.url).pathname,
        subject,
        String(N),
      ],
      { encoding: 'utf8' },
    ).trim(),
  );
const base = child('baseline');
const mib = (kb: number) => `${(kb / 1024).toFixed(0)} MiB`;
const rss = [
  { subject: 'baseline (no limiter)', VmHWM: mib(base), 'per id': '' },
  ...['org', 'rlflex'].map((s) => {
    const kb = child(s);
    return {
      subject: s === 'org' ? '@org/rate-limit memory' : 'rate-limiter-flexible memory',
      VmHWM: mib(kb),
      'per id': `${Math.round(((kb - base) * 1024) / N)} B`,
    };
  }),
];
console.log(`\nmemory store with ${N.toLocaleString('en-US')} distinct ids (peak RSS of a child)`);
console.table(rss);
