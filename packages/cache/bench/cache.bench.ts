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

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const { hostname: host, port: portText } = new URL(url);
const port = Number(portText || 6379);
const run = `bench-${randomUUID().slice(0, 8)}`;
const TIME = Number(process.env.BENCH_TIME_MS ?? 1_000);
const value = {
  id: 1042,
  name: 'Ada Builders GmbH',
  trades: ['roofing', 'plumbing', 'electrical'],
  rating: 4.7,
  since: '2014-03-01',
  address: { street: 'Hauptstraße 12', city: 'Berlin', zip: '10115' },
  verified: true,
};

// ---- the three caches, each as L1+L2 ("tiered") and as L2 only --------------------------------
const org = createCache({ redis: url, namespace: `${run}-org`, env: {} });
const orgL2 = createCache({ redis: url, namespace: `${run}-org`, env: {}, memory: false });

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
const TTL_S = 60;
const subjects: Record<string, { tiered: Subject; l2: Subject }> = {
  '@org/cache': {
    tiered: {
      get: (k) => org.get(k),
      set: (k, v) => org.set(k, v, { ttl: TTL_S }),
      getOrSet: (k, l) => org.getOrSet(k, l, { ttl: TTL_S }),
    },
    l2: {
      get: (k) => orgL2.get(k),
      set: (k, v) => orgL2.set(k, v, { ttl: TTL_S }),
      getOrSet: (k, l) => orgL2.getOrSet(k, l, { ttl: TTL_S }),
    },
  },
  bentocache: {
    tiered: {
      get: (key) => bento.get({ key }),
      set: (key, v) => bento.set({ key, value: v, ttl: TTL_S * 1000 }),
      getOrSet: (key, factory) => bento.getOrSet({ key, factory, ttl: TTL_S * 1000 }),
    },
    l2: {
      get: (key) => bentoL2.get({ key }),
      set: (key, v) => bentoL2.set({ key, value: v, ttl: TTL_S * 1000 }),
      getOrSet: (key, factory) => bentoL2.getOrSet({ key, factory, ttl: TTL_S * 1000 }),
    },
  },
  'cache-manager': {
    tiered: {
      get: (k) => cm.get(k),
      set: (k, v) => cm.set(k, v, TTL_S * 1000),
      getOrSet: (k, l) => cm.wrap(k, l, TTL_S * 1000),
    },
    l2: {
      get: (k) => cmL2.get(k),
      set: (k, v) => cmL2.set(k, v, TTL_S * 1000),
      getOrSet: (k, l) => cmL2.wrap(k, l, TTL_S * 1000),
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
// Rounds interleave the libraries in rotated order and the table keeps each one's median round,
// so a burst of load from something else on the machine does not decide a row.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
await org.ready();
await orgL2.ready();
const rows: {
  scenario: string;
  lib: string;
  opsPerSec: number;
  meanUs: number;
  p99Us: number;
  cpuUs: number;
  samples: number;
}[] = [];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
for (const sc of scenarios) {
  const perLib: Record<string, { ops: number; meanUs: number; p99Us: number; samples: number }[]> =
    {};
  for (const lib of names) await sc.setup?.(subjects[lib]!.tiered, lib);
  // CPU time of this process per operation (warm-up included): unlike wall time, it hardly
  // moves when other processes load the machine.
  const cpu: Record<string, { us: number; n: number; start?: NodeJS.CpuUsage }> = {};
  for (let round = 0; round < ROUNDS; round++) {
    const bench = new Bench({ time: TIME, warmupTime: 100 });
    const order = names.map((_, i) => names[(i + round) % names.length]!);
    for (const lib of order) {
      const fn = sc.op(lib);
      cpu[lib] ??= { us: 0, n: 0 };
      const acc = cpu[lib];
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
      const r = task.result as unknown as {
        latency: { mean: number; p99: number; samples?: number[] };
      };
      perLib[task.name] ??= [];
      perLib[task.name]?.push({
        ops: (1000 / r.latency.mean) * (sc.calls ?? 1),
        meanUs: r.latency.mean * 1000,
        p99Us: r.latency.p99 * 1000,
        samples: r.latency.samples?.length ?? 0,
      });
    }
  }
  for (const lib of names) {
    const runs = perLib[lib] ?? [];
    const mid = runs.find((x) => x.ops === median(runs.map((y) => y.ops))) ?? runs[0]!;
    rows.push({
      scenario: sc.name,
      lib,
      opsPerSec: mid.ops,
      meanUs: mid.meanUs,
      p99Us: mid.p99Us,
      cpuUs: (cpu[lib]?.us ?? 0) / Math.max(1, (cpu[lib]?.n ?? 1) * (sc.calls ?? 1)),
      samples: runs.reduce((a, x) => a + x.samples, 0),
    });
  }
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
console.log(
  `\nNode ${process.version}, Redis ${url.replace(/\/\/.*@/, '//')}, ${ROUNDS} rounds × ${TIME} ms per task, median round\n`,
);
console.log('| scenario | library | ops/s | mean µs | p99 µs | CPU µs/op | ops/s vs best anchor |');
console.log('|---|---|---:|---:|---:|---:|---:|');
for (const sc of scenarios) {
  const of = (lib: string) => rows.find((r) => r.scenario === sc.name && r.lib === lib)!;
  const bestAnchor = Math.max(of('bentocache').opsPerSec, of('cache-manager').opsPerSec);
  for (const lib of names) {
    const r = of(lib);
    console.log(
      `| ${sc.name} | ${lib} | ${fmt(r.opsPerSec)} | ${r.meanUs.toFixed(1)} | ${r.p99Us.toFixed(1)} | ${r.cpuUs.toFixed(1)} | ${(r.opsPerSec / bestAnchor).toFixed(2)}× |`,
    );
  }
}
const ours = (s: string) => rows.find((r) => r.scenario === s && r.lib === '@org/cache')!.opsPerSec;
const bestAnchor = (scenario: string) =>
  Math.max(
    ...['bentocache', 'cache-manager'].map(
      (l) => rows.find((r) => r.scenario === scenario && r.lib === l)!.opsPerSec,
    ),
  );
const L2 = 'L2 hit (get, no L1)';
const L2C = 'L2 hit, 50 concurrent gets (no L1)';
console.log(
  `\nGoals: L2 hit vs better anchor = ${(ours(L2) / bestAnchor(L2)).toFixed(2)}× sequential, ` +
    `${(ours(L2C) / bestAnchor(L2C)).toFixed(2)}× with 50 concurrent (goal ≥ 1); ` +
    `L1 hit / L2 hit = ${(ours('L1 hit (get)') / ours(L2)).toFixed(1)}× (goal ≥ 10)`,
);
console.log(
  `Loader runs in "getOrSet, 100 concurrent" (one per batch is ideal): ${names
    .map((l) => {
      return `${l} ${loaderRuns[l]} runs for ${batches[l]} batches`;
    })
    .join('; ')}`,
);

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
