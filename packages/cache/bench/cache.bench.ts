/**
 * @org/cache against bentocache and cache-manager (v7, Keyv + @keyv/redis) on the same Redis.
 *
 *   pnpm --filter @org/cache run bench          (REDIS_URL, default redis://127.0.0.1:6379)
 *
 * Every key carries this run's id and a 60 s TTL; the run deletes its keys at the end (never
 * FLUSHDB: the Redis may be shared).
 */
import { randomUUID } from 'node:crypto';
import { createKeyv } from '@keyv/redis';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { redisBusDriver, redisDriver } from 'bentocache/drivers/redis';
import { createCache as createCacheManager } from 'cache-manager';
import { Redis } from 'ioredis';
import { Keyv } from 'keyv';
import { Bench } from 'tinybench';
import { createCache } from '../src/index.js';
import { frozenRedisTable } from './frozen-redis.js';
import { value } from './sample-value.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const { hostname: host, port: portText } = new URL(url);
const port = Number(portText || 6379);
const run = `bench-${randomUUID().slice(0, 8)}`;
const TIME = Number(process.env.BENCH_TIME_MS ?? 500);

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
// Rounds interleave the libraries in rotated order. Each round gives every library its ops/s and
// CPU per call, and @org/cache its ratio to the better anchor of that same round; the table shows
// medians over rounds, so a burst of load from something else on the machine does not decide a
// row, and the ratio compares runs made seconds apart rather than medians of different rounds.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
// BENCH_ONLY=getOrSet runs only the scenarios whose name contains it.
const only = process.env.BENCH_ONLY;
const picked = scenarios.filter((sc) => only === undefined || sc.name.includes(only));
await org.ready();
await orgL2.ready();
interface Round {
  ops: number;
  meanUs: number;
  p99Us: number;
  cpuUs: number;
}
const results = new Map<string, Record<string, Round[]>>();
const ratios = new Map<string, number[]>();
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
};
for (const sc of picked) {
  const perLib: Record<string, Round[]> = {};
  results.set(sc.name, perLib);
  ratios.set(sc.name, []);
  for (const lib of names) await sc.setup?.(subjects[lib]!.tiered, lib);
  for (let round = 0; round < ROUNDS; round++) {
    const bench = new Bench({ time: TIME, warmupTime: 100 });
    const order = names.map((_, i) => names[(i + round) % names.length]!);
    // CPU time of this process per cache call (warm-up included): unlike wall time it hardly
    // moves when other processes load the machine, and when the Redis round trip makes the wall
    // times a tie, it is what a library adds on top.
    const cpu: Record<string, { us: number; n: number; start?: NodeJS.CpuUsage }> = {};
    for (const lib of order) {
      const fn = sc.op(lib);
      const acc = { us: 0, n: 0 } as { us: number; n: number; start?: NodeJS.CpuUsage };
      cpu[lib] = acc;
      bench.add(
        lib,
        async () => {
          acc.n++;
          await fn();
        },
        {
          beforeAll: () => {
            acc.start = process.cpuUsage();
          },
          afterAll: () => {
            const d = process.cpuUsage(acc.start);
            acc.us += d.user + d.system;
          },
        },
      );
    }
    await bench.run();
    for (const task of bench.tasks) {
      const r = task.result as unknown as { latency: { mean: number; p99: number } };
      const acc = cpu[task.name]!;
      perLib[task.name] ??= [];
      perLib[task.name]!.push({
        ops: (1000 / r.latency.mean) * (sc.calls ?? 1),
        meanUs: r.latency.mean * 1000,
        p99Us: r.latency.p99 * 1000,
        cpuUs: acc.us / Math.max(1, acc.n * (sc.calls ?? 1)),
      });
    }
    const last = (lib: string) => perLib[lib]!.at(-1)!.ops;
    ratios
      .get(sc.name)!
      .push(last('@org/cache') / Math.max(last('bentocache'), last('cache-manager')));
  }
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const med = (scenario: string, lib: string, f: (r: Round) => number) =>
  median((results.get(scenario)?.[lib] ?? []).map(f));
console.log(
  `\nNode ${process.version}, Redis ${url.replace(/\/\/.*@/, '//')}, ${ROUNDS} rounds × ${TIME} ms per task; medians over rounds\n`,
);
console.log(
  '| scenario | library | ops/s | mean µs | p99 µs | CPU µs/op | ops/s vs better anchor (median of per-round ratios; min–max) |',
);
console.log('|---|---|---:|---:|---:|---:|---:|');
for (const sc of picked) {
  for (const lib of names) {
    const rs = ratios.get(sc.name) ?? [];
    const ratio =
      lib === '@org/cache'
        ? `**${median(rs).toFixed(2)}×** (${Math.min(...rs).toFixed(2)}–${Math.max(...rs).toFixed(2)})`
        : '';
    console.log(
      `| ${sc.name} | ${lib} | ${fmt(med(sc.name, lib, (r) => r.ops))} | ${med(sc.name, lib, (r) => r.meanUs).toFixed(1)} | ${med(sc.name, lib, (r) => r.p99Us).toFixed(1)} | ${med(sc.name, lib, (r) => r.cpuUs).toFixed(1)} | ${ratio} |`,
    );
  }
}
const L1 = 'L1 hit (get)';
const L2 = 'L2 hit (get, no L1)';
const L2C = 'L2 hit, 50 concurrent gets (no L1)';
const COLD = 'getOrSet, 100 concurrent on a cold key';
const ratioOf = (s: string) =>
  ratios.has(s) ? `${median(ratios.get(s)!).toFixed(2)}×` : 'not run';
const cpuVs = (s: string) => {
  if (!results.has(s)) return 'not run';
  const ours = med(s, '@org/cache', (r) => r.cpuUs);
  const anchors = ['bentocache', 'cache-manager'].map((l) => med(s, l, (r) => r.cpuUs));
  return `${ours.toFixed(1)} vs ${Math.min(...anchors).toFixed(1)} µs`;
};
console.log(
  `\nGoals (medians of per-round ratios): L2 hit vs better anchor = ${ratioOf(L2)} sequential ` +
    `(CPU/op ${cpuVs(L2)} for the leaner anchor), ${ratioOf(L2C)} with 50 concurrent ` +
    `(CPU/op ${cpuVs(L2C)}) (goal ≥ 1); cold getOrSet vs better anchor = ${ratioOf(COLD)}; ` +
    (results.has(L1) && results.has(L2)
      ? `L1 hit / L2 hit = ${(med(L1, '@org/cache', (r) => r.ops) / med(L2, '@org/cache', (r) => r.ops)).toFixed(1)}× (goal ≥ 10)`
      : ''),
);
if (results.has(COLD)) {
  console.log(
    `Loader runs in "${COLD}" (one per batch is ideal): ${names
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
  bento.disconnectAll(),
  cm.disconnect(),
  cmL2.disconnect(),
]);
if (process.env.BENCH_FROZEN !== '0') await frozenRedisTable();
process.exit(0);
