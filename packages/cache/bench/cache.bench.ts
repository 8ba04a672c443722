/**
 * @org/cache against bentocache and cache-manager (v7, Keyv + @keyv/redis) on the same Redis.
 *
 *   pnpm --filter @org/cache bench          (REDIS_URL, default redis://127.0.0.1:6379)
 *
 * Each row is @org/cache paired with each anchor in alternating rounds (`pairedRatio` from
 * `@org/test-utils/bench`): the ratio is ours ÷ anchor throughput per round (≥ 1: ours is
 * faster), and the row shows its median and range against the better anchor of the two, the one
 * with the lower median ratio.
 *
 * Every key carries this run's id and a 60 s TTL; the run deletes its keys at the end (never
 * FLUSHDB: the Redis may be shared).
 */
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { createKeyv } from '@keyv/redis';
import { formatRatioRow, type PairedResult, pairedRatio } from '@org/test-utils/bench';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { redisBusDriver, redisDriver } from 'bentocache/drivers/redis';
import { createCache as createCacheManager } from 'cache-manager';
import { Redis } from 'ioredis';
import { Keyv } from 'keyv';
import { createCache } from '../src/index.js';
import { frozenRedisTable } from './frozen-redis.js';
import { value } from './sample-value.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const { hostname: host, port: portText } = new URL(url);
const port = Number(portText || 6379);
const run = `bench-${randomUUID().slice(0, 8)}`;
const TIME = Number(process.env.BENCH_TIME_MS ?? 200);

// ---- the three caches, each as L1+L2 ("tiered") and as L2 only --------------------------------
const org = createCache({ redis: url, namespace: `${run}-org` });
const orgL2 = createCache({ redis: url, namespace: `${run}-org`, memory: false });

const connection = { host, port };
const bento = new BentoCache({
  default: 'tiered',
  prefix: `${run}-bento`,
  stores: {
    tiered: bentostore()
      .useL1Layer(memoryDriver({ maxItems: 10_000 }))
      .useL2Layer(redisDriver({ connection }))
      .useBus(redisBusDriver({ connection })),
    l2: bentostore().useL2Layer(redisDriver({ connection })),
  },
});
const bentoL2 = bento.use('l2');

const cmRedis = () => createKeyv(url, { namespace: `${run}-cm` });
const cm = createCacheManager({ stores: [new Keyv(), cmRedis()] });
const cmL2 = createCacheManager({ stores: [cmRedis()] });

interface Subject {
  get(key: string): Promise<unknown>;
  set(key: string, v: unknown): Promise<unknown>;
  getOrSet(key: string, loader: () => Promise<unknown>): Promise<unknown>;
}
const TTL_MS = 60_000;
const subjects: Record<string, { tiered: Subject; l2: Subject }> = {
  '@org/cache': {
    tiered: {
      get: (k) => org.get(k),
      set: (k, v) => org.set(k, v, { ttl: TTL_MS }),
      getOrSet: (k, l) => org.getOrSet(k, l, { ttl: TTL_MS }),
    },
    l2: {
      get: (k) => orgL2.get(k),
      set: (k, v) => orgL2.set(k, v, { ttl: TTL_MS }),
      getOrSet: (k, l) => orgL2.getOrSet(k, l, { ttl: TTL_MS }),
    },
  },
  bentocache: {
    tiered: {
      get: (key) => bento.get({ key }),
      set: (key, v) => bento.set({ key, value: v, ttl: TTL_MS }),
      getOrSet: (key, factory) => bento.getOrSet({ key, factory, ttl: TTL_MS }),
    },
    l2: {
      get: (key) => bentoL2.get({ key }),
      set: (key, v) => bentoL2.set({ key, value: v, ttl: TTL_MS }),
      getOrSet: (key, factory) => bentoL2.getOrSet({ key, factory, ttl: TTL_MS }),
    },
  },
  'cache-manager': {
    tiered: {
      get: (k) => cm.get(k),
      set: (k, v) => cm.set(k, v, TTL_MS),
      getOrSet: (k, l) => cm.wrap(k, l, TTL_MS),
    },
    l2: {
      get: (k) => cmL2.get(k),
      set: (k, v) => cmL2.set(k, v, TTL_MS),
      getOrSet: (k, l) => cmL2.wrap(k, l, TTL_MS),
    },
  },
};
const names = Object.keys(subjects);

// @org/cache with a guarantee turned off, to show what each costs in the rows that trail.
const tieredOnly = (c: ReturnType<typeof createCache>): { tiered: Subject; l2: Subject } => {
  const s: Subject = {
    get: (k) => c.get(k),
    set: (k, v) => c.set(k, v, { ttl: TTL_MS }),
    getOrSet: (k, l) => c.getOrSet(k, l, { ttl: TTL_MS }),
  };
  return { tiered: s, l2: s };
};
const offCaches = {
  'invalidation: false': createCache({
    redis: url,
    namespace: `${run}-org-noinv`,
    invalidation: false,
  }),
  'crossInstanceLock: false': createCache({
    redis: url,
    namespace: `${run}-org-nolock`,
    crossInstanceLock: false,
  }),
  'sharedResults: true': createCache({
    redis: url,
    namespace: `${run}-org-shared`,
    sharedResults: true,
  }),
  'all three': createCache({
    redis: url,
    namespace: `${run}-org-none`,
    invalidation: false,
    crossInstanceLock: false,
    sharedResults: true,
  }),
};
for (const [off, c] of Object.entries(offCaches)) subjects[`@org/cache, ${off}`] = tieredOnly(c);
const guaranteeRows: { scenario: string; off: keyof typeof offCaches }[] = [
  { scenario: 'miss + set', off: 'invalidation: false' },
  { scenario: 'getOrSet, 100 concurrent on a cold key', off: 'crossInstanceLock: false' },
  { scenario: 'getOrSet, 100 concurrent on a cold key', off: 'invalidation: false' },
  { scenario: 'getOrSet, 100 concurrent on a cold key', off: 'sharedResults: true' },
  { scenario: 'getOrSet, 100 concurrent on a cold key', off: 'all three' },
];

// ---- scenarios --------------------------------------------------------------------------------
let seq = 0;
const loaderRuns: Record<string, number> = {};
const batches: Record<string, number> = {};
const scenarios: {
  name: string;
  setup?: (s: Subject, lib: string) => Promise<void>;
  op: (lib: string) => () => Promise<unknown>;
  /** Cache calls per task iteration (ops/s counts calls, not iterations). */
  calls?: number;
}[] = [
  {
    name: 'L1 hit (get)',
    setup: async (_s, lib) => {
      await subjects[lib]!.tiered.set(`${run}:hot`, value);
      await subjects[lib]!.tiered.get(`${run}:hot`);
    },
    op: (lib) => () => subjects[lib]!.tiered.get(`${run}:hot`),
  },
  {
    name: 'L2 hit (get, no L1)',
    setup: async (_s, lib) => {
      await subjects[lib]!.l2.set(`${run}:warm`, value);
    },
    op: (lib) => () => subjects[lib]!.l2.get(`${run}:warm`),
  },
  {
    name: 'L2 hit, 50 concurrent gets (no L1)',
    calls: 50,
    setup: async (_s, lib) => {
      for (let i = 0; i < 50; i++) await subjects[lib]!.l2.set(`${run}:warm:${i}`, value);
    },
    op: (lib) => () =>
      Promise.all(Array.from({ length: 50 }, (_, i) => subjects[lib]!.l2.get(`${run}:warm:${i}`))),
  },
  {
    name: 'miss + set',
    op: (lib) => {
      return async () => {
        const key = `${run}:miss:${seq++}`;
        await subjects[lib]!.tiered.get(key);
        await subjects[lib]!.tiered.set(key, value);
      };
    },
  },
  {
    name: 'getOrSet, 100 concurrent on a cold key',
    op: (lib) => {
      loaderRuns[lib] ??= 0;
      batches[lib] ??= 0;
      const loader = async () => {
        loaderRuns[lib] = (loaderRuns[lib] ?? 0) + 1;
        return value;
      };
      return async () => {
        const key = `${run}:gos:${seq++}`;
        batches[lib] = (batches[lib] ?? 0) + 1;
        await Promise.all(
          Array.from({ length: 100 }, () => subjects[lib]!.tiered.getOrSet(key, loader)),
        );
      };
    },
  },
];

// ---- run ------------------------------------------------------------------------------------
// Per scenario, @org/cache is paired with each anchor in turn: `pairedRatio` runs ours and the
// anchor side by side in each round (the order alternating round by round), so a burst of load
// from something else on the machine hits both sides of a ratio. The verdict is the median of the
// per-round ratios against the better anchor, with their range.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
// BENCH_ONLY=getOrSet runs only the scenarios whose name contains it.
const only = process.env.BENCH_ONLY;
const picked = scenarios.filter((sc) => only === undefined || sc.name.includes(only));
const anchors = ['bentocache', 'cache-manager'] as const;
const GOAL = 1;
await org.ready();
await orgL2.ready();
for (const c of Object.values(offCaches)) await c.ready();
const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(', ');
const loadBefore = loadavg();
const rows: { name: string; better: string; vs: Record<string, PairedResult> }[] = [];
for (const sc of picked) {
  for (const lib of names) await sc.setup?.(subjects[lib]!.tiered, lib);
  const ours = sc.op('@org/cache');
  const vs: Record<string, PairedResult> = {};
  for (const anchor of anchors) {
    vs[anchor] = await pairedRatio(ours, sc.op(anchor), {
      rounds: ROUNDS,
      time: TIME,
      perIteration: sc.calls ?? 1,
    });
  }
  const better = anchors.reduce((a, b) => (vs[b]!.median < vs[a]!.median ? b : a));
  rows.push({ name: sc.name, better, vs });
}
// The same scenario with a guarantee off, against the better anchor of its row.
const offRows: { scenario: string; off: string; anchor: string; r: PairedResult }[] = [];
for (const { scenario, off } of guaranteeRows) {
  const sc = picked.find((x) => x.name === scenario);
  const row = rows.find((x) => x.name === scenario);
  if (!sc || !row) continue;
  const r = await pairedRatio(sc.op(`@org/cache, ${off}`), sc.op(row.better), {
    rounds: ROUNDS,
    time: TIME,
    perIteration: sc.calls ?? 1,
  });
  offRows.push({ scenario, off, anchor: row.better, r });
}
const loadAfter = loadavg();

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
console.log(
  `\nNode ${process.version}, Redis ${url.replace(/\/\/.*@/, '//')}; ${ROUNDS} paired rounds × ${TIME} ms per task (+100 ms warm-up) against each anchor; load average ${load(loadBefore)} at the start, ${load(loadAfter)} at the end\n`,
);
console.log(
  '| scenario | ours ÷ better anchor (median of rounds) | range | better anchor | ours ÷ the other | ops/s ours · better anchor (medians) | goal | met |',
);
console.log('|---|---:|---:|---|---:|---:|---:|---|');
for (const { name, better, vs } of rows) {
  const r = vs[better]!;
  const other = anchors.find((a) => a !== better)!;
  const o = vs[other]!;
  console.log(
    formatRatioRow(
      name,
      r,
      better,
      `${o.median.toFixed(2)}× (${other})`,
      `${fmt(r.oursHz)} · ${fmt(r.anchorHz)}`,
      `≥ ${GOAL.toFixed(1)}×`,
      r.median >= GOAL ? 'yes' : '**no**',
    ),
  );
}
if (offRows.length > 0) {
  console.log('\nWhat a guarantee costs: the trailing rows with it turned off, same anchor\n');
  console.log('| scenario, turned off | ours ÷ anchor (median of rounds) | range | anchor |');
  console.log('|---|---:|---:|---|');
  for (const { scenario, off, anchor, r } of offRows) {
    console.log(formatRatioRow(`${scenario}, \`${off}\``, r, anchor));
  }
}
const L1 = rows.find((r) => r.name === 'L1 hit (get)');
const L2 = rows.find((r) => r.name === 'L2 hit (get, no L1)');
if (L1 && L2) {
  const hz = (row: typeof L1) => row.vs[row.better]!.oursHz;
  console.log(`\nL1 hit / L2 hit (ours, ops/s) = ${(hz(L1) / hz(L2)).toFixed(1)}× (goal ≥ 10)`);
}
const COLD = 'getOrSet, 100 concurrent on a cold key';
if (rows.some((r) => r.name === COLD)) {
  console.log(
    `Loader runs in "${COLD}" (one per batch is ideal): ${Object.keys(subjects)
      .filter((l) => batches[l] !== undefined)
      .map((l) => `${l} ${loaderRuns[l]} runs for ${batches[l]} batches`)
      .join('; ')}`,
  );
}

// ---- clean up ---------------------------------------------------------------------------------
const raw = new Redis(url);
let cursor = '0';
do {
  const [next, keys] = await raw.scan(cursor, 'MATCH', `*${run}*`, 'COUNT', 1000);
  cursor = next;
  if (keys.length > 0) await raw.unlink(...keys);
} while (cursor !== '0');
raw.disconnect();
await Promise.all([
  org.close(),
  orgL2.close(),
  ...Object.values(offCaches).map((c) => c.close()),
  bento.disconnectAll(),
  cm.disconnect(),
  cmL2.disconnect(),
]);
if (process.env.BENCH_FROZEN !== '0') await frozenRedisTable();
process.exit(0);
