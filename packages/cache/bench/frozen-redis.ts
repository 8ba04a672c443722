/**
 * Part of cache.bench.ts: each library on its own redis-server, with default options, while that
 * server is frozen (SIGSTOP): 15 concurrent calls (5 get, 5 set, 5 getOrSet), each capped at
 * 5 s. Prints the slowest call and how many were still pending at the cap or threw.
 */
import { createKeyv } from '@keyv/redis';
import { startRedisServer } from '@org/test-utils';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { redisDriver } from 'bentocache/drivers/redis';
import { createCache as createCacheManager } from 'cache-manager';
import { Keyv } from 'keyv';
import { createCache } from '../src/index.js';

const CAP_MS = 5_000;

interface Subject {
  get(k: string): Promise<unknown>;
  set(k: string, v: unknown): Promise<unknown>;
  getOrSet(k: string): Promise<unknown>;
  close(): Promise<unknown>;
}

async function measure(make: (url: string, port: number) => Promise<Subject>) {
  const server = await startRedisServer();
  const c = await make(server.url, server.port);
  await c.set('warm', 1);
  server.pause();
  let slowest = 0;
  let pending = 0;
  let threw = 0;
  const one = async (f: () => Promise<unknown>) => {
    const t0 = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const cap = new Promise<'cap'>((r) => {
      timer = setTimeout(() => r('cap'), CAP_MS);
    });
    try {
      if ((await Promise.race([f(), cap])) === 'cap') pending++;
    } catch {
      threw++;
    }
    clearTimeout(timer);
    slowest = Math.max(slowest, performance.now() - t0);
  };
  await Promise.all([
    ...Array.from({ length: 5 }, (_, i) => one(() => c.get(`k${i}`))),
    ...Array.from({ length: 5 }, (_, i) => one(() => c.set(`s${i}`, i))),
    ...Array.from({ length: 5 }, (_, i) => one(() => c.getOrSet(`g${i}`))),
  ]);
  server.resume();
  await server.stop();
  await Promise.race([c.close().catch(() => {}), new Promise((r) => setTimeout(r, 500))]);
  return { slowest, pending, threw };
}

/** Runs the frozen-Redis comparison and prints its table. */
export async function frozenRedisTable(): Promise<void> {
  const rows: [string, Awaited<ReturnType<typeof measure>>][] = [];
  rows.push([
    '@org/cache',
    await measure(async (url) => {
      const c = createCache({ redis: url });
      await c.ready();
      return {
        get: (k) => c.get(k),
        set: (k, v) => c.set(k, v),
        getOrSet: (k) => c.getOrSet(k, async () => 1),
        close: () => c.close(),
      };
    }),
  ]);
  rows.push([
    'bentocache',
    await measure(async (_url, port) => {
      const b = new BentoCache({
        default: 's',
        stores: {
          s: bentostore()
            .useL1Layer(memoryDriver({}))
            .useL2Layer(redisDriver({ connection: { host: '127.0.0.1', port } })),
        },
      });
      return {
        get: (key) => b.get({ key }),
        set: (key, value) => b.set({ key, value }),
        getOrSet: (key) => b.getOrSet({ key, factory: async () => 1 }),
        close: () => b.disconnectAll(),
      };
    }),
  ]);
  rows.push([
    'cache-manager',
    await measure(async (url) => {
      const cm = createCacheManager({ stores: [new Keyv(), createKeyv(url)] });
      return {
        get: (k) => cm.get(k),
        set: (k, v) => cm.set(k, v),
        getOrSet: (k) => cm.wrap(k, async () => 1),
        close: () => cm.disconnect(),
      };
    }),
  ]);
  console.log(
    `\nFrozen Redis (SIGSTOP), default options, 15 concurrent calls (get, set, getOrSet), each capped at ${CAP_MS} ms:\n`,
  );
  console.log('| library | slowest call | still pending at the cap | threw |');
  console.log('|---|---:|---:|---:|');
  for (const [lib, r] of rows) {
    const slowest = r.pending > 0 ? `≥ ${CAP_MS} ms` : `${Math.round(r.slowest)} ms`;
    console.log(`| ${lib} | ${slowest} | ${r.pending} | ${r.threw} |`);
  }
}
