// Upload and download throughput of @org/storage's S3 driver against the bare AWS SDK, both on
// the same moto_server, plus peak RSS while streaming 1 GiB through put and getStream (in child
// processes).
// Run: pnpm --filter @org/storage build && pnpm --filter @org/storage bench  (needs moto_server)
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Readable } from 'node:stream';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createStorage, type S3DriverOptions } from '@org/storage';
import { Bench } from 'tinybench';
import { motoConnection, startMoto } from '../test/moto.js';

const MiB = 1024 * 1024;
const BIG = Number(process.env.BENCH_BIG_MIB ?? 512) * MiB;
const RSS_BYTES = Number(process.env.BENCH_RSS_MIB ?? 1024) * MiB;

const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
console.log(`Node ${process.version}, load average at the start ${load()}`);
// moto spills objects over 5 MiB to files in TMPDIR; on a tmpfs the page cache's writeback of
// the gigabytes this bench writes cannot stall one side of a round at random.
const moto = await startMoto(existsSync('/dev/shm') ? { env: { TMPDIR: '/dev/shm' } } : {});
const bucket = await moto.bucket('bench');
const sdk = new S3Client(motoConnection(moto.endpoint));
// moto completes and copies large multipart objects in Python, on this loaded machine sometimes
// for longer than the default 30 s of socket silence.
const withOptions = (options: Partial<S3DriverOptions> = {}) =>
  createStorage({
    s3: { bucket, ...motoConnection(moto.endpoint), idleTimeout: 300_000, ...options },
    timeout: 600_000,
  });
const storage = withOptions();
// Three parts in flight instead of two: 15 MiB of parts instead of 10.
const queue2 = withOptions({ queueSize: 2 });
// The same with the CopyObject that stores a multipart object's sha256 in its metadata.
const withCopy = withOptions({ storeMultipartSha256: true });
const small = Buffer.alloc(MiB, 0x61);
const chunk = Buffer.alloc(MiB, 0x62);
function stream(size: number): Readable {
  let left = size;
  return new Readable({
    read() {
      if (left <= 0) return this.push(null);
      left -= chunk.length;
      this.push(chunk);
    },
  });
}
async function drain(r: Readable | undefined): Promise<void> {
  for await (const _ of r ?? []) {
  }
}

interface Case {
  name: string;
  bytes: number;
  iterations: number;
  sdk: () => Promise<unknown>;
  ours: () => Promise<unknown>;
}
await storage.put('bench/1m.bin', small);
await storage.put('bench/big.bin', stream(BIG));
// The bare SDK's stream upload: lib-storage's Upload, 8 MiB parts × 4 in flight.
const sdkUploadBig = () =>
  new Upload({
    client: sdk,
    params: { Bucket: bucket, Key: 'bench/sdk-big.bin', Body: stream(BIG) },
    partSize: 8 * MiB,
    queueSize: 4,
  }).done();
const cases: Case[] = [
  {
    name: 'upload 1 MiB',
    bytes: MiB,
    iterations: 30,
    sdk: () =>
      sdk.send(new PutObjectCommand({ Bucket: bucket, Key: 'bench/sdk-1m.bin', Body: small })),
    ours: () => storage.put('bench/ours-1m.bin', small),
  },
  {
    name: 'download 1 MiB',
    bytes: MiB,
    iterations: 30,
    sdk: async () =>
      drain(
        (await sdk.send(new GetObjectCommand({ Bucket: bucket, Key: 'bench/1m.bin' })))
          .Body as Readable,
      ),
    ours: async () => drain(await storage.getStream('bench/1m.bin')),
  },
  {
    name: `upload ${BIG / MiB} MiB stream`,
    bytes: BIG,
    iterations: 1,
    sdk: sdkUploadBig,
    ours: () => storage.put('bench/ours-big.bin', stream(BIG)),
  },
  {
    name: `upload ${BIG / MiB} MiB stream, queueSize: 2`,
    bytes: BIG,
    iterations: 1,
    sdk: sdkUploadBig,
    ours: () => queue2.put('bench/ours-big.bin', stream(BIG)),
  },
  {
    name: `upload ${BIG / MiB} MiB stream, storeMultipartSha256: true`,
    bytes: BIG,
    iterations: 1,
    sdk: sdkUploadBig,
    ours: () => withCopy.put('bench/ours-big.bin', stream(BIG)),
  },
  {
    name: `download ${BIG / MiB} MiB`,
    bytes: BIG,
    iterations: 1,
    sdk: async () =>
      drain(
        (await sdk.send(new GetObjectCommand({ Bucket: bucket, Key: 'bench/big.bin' })))
          .Body as Readable,
      ),
    ours: async () => drain(await storage.getStream('bench/big.bin')),
  },
];

// Rounds alternate which side runs first, and each row reports the median of the per-round
// time ratios with their range: moto and this shared machine drift (GC, memory growth, the
// neighbours), and a ratio of two times measured side by side in one round cancels the drift
// that a ratio of two medians taken over the whole run would keep.
const ROUNDS_SMALL = 9;
const ROUNDS_BIG = 5;
const median = (xs: number[]) =>
  [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? Number.NaN;
const rows: Record<string, string>[] = [];
// BENCH_CASES=regex runs only the matching cases; BENCH_RSS=0 skips the RSS children.
const only = process.env.BENCH_CASES ? new RegExp(process.env.BENCH_CASES) : undefined;
for (const c of cases.filter((c) => only === undefined || only.test(c.name))) {
  const big = c.bytes >= 64 * MiB;
  const means: Record<string, number[]> = { 'aws-sdk': [], '@org/storage': [] };
  for (let round = 0; round < (big ? ROUNDS_BIG : ROUNDS_SMALL); round++) {
    const bench = new Bench({
      iterations: c.iterations,
      time: 0,
      warmup: !big,
      warmupIterations: 2,
      warmupTime: 0,
    });
    const tasks: [string, () => Promise<unknown>][] = [
      ['aws-sdk', c.sdk],
      ['@org/storage', c.ours],
    ];
    if (round % 2 === 1) tasks.reverse();
    // Added as async functions: tinybench calls a plain function once when it is added, to see
    // whether it returns a promise, which would start an extra upload beside the measured one.
    for (const [name, fn] of tasks) {
      bench.add(name, async () => {
        await fn();
      });
    }
    await bench.run();
    for (const t of bench.tasks) means[t.name]?.push(t.result?.latency.mean ?? Number.NaN);
    if (big) {
      const ms = (name: string) => (means[name]?.at(-1) ?? Number.NaN).toFixed(0);
      console.log(
        `  ${c.name}, round ${round + 1}: aws-sdk ${ms('aws-sdk')} ms, ours ${ms('@org/storage')} ms`,
      );
    }
  }
  const ratios = (means['@org/storage'] ?? []).map((o, i) => o / (means['aws-sdk']?.[i] ?? 1));
  const mbps = (name: string) => c.bytes / MiB / (median(means[name] ?? []) / 1000);
  rows.push({
    case: c.name,
    rounds: String(ratios.length),
    'aws-sdk MiB/s': mbps('aws-sdk').toFixed(1),
    '@org/storage MiB/s': mbps('@org/storage').toFixed(1),
    'time ratio (ours/sdk), median of rounds': median(ratios).toFixed(2),
    range: `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}`,
  });
}
console.table(rows);

// Peak RSS of fresh child processes, each streaming RSS_BYTES through one call. The defaults run
// RSS_RUNS times (the table shows the range); reference rows run once.
const RSS_RUNS = Number(process.env.BENCH_RSS_RUNS ?? 5);
const rssModes = process.env.BENCH_RSS === '0' ? [] : undefined;
const modes: { mode: string; label: string; runs: number; env?: Record<string, string> }[] = [
  { mode: 'sdk', label: 'put: aws-sdk Upload, 8 MiB × 4', runs: 1 },
  { mode: 'storage', label: 'put: @org/storage (defaults)', runs: RSS_RUNS },
  {
    mode: 'storage',
    label: 'put: @org/storage, queueSize 2: 5 MiB × (2 + 1)',
    runs: 3,
    env: { BENCH_QUEUE: '2' },
  },
  { mode: 'sdk-get', label: 'get: aws-sdk GetObject', runs: 1 },
  { mode: 'storage-get', label: 'get: @org/storage getStream', runs: RSS_RUNS },
];
interface RssRun {
  maxRssMiB: number;
  baselineMiB: number;
  heapTotalMiB: number;
  arrayBuffersMiB: number;
  seconds: number;
}
const range = (xs: number[]) => {
  const lo = Math.min(...xs).toFixed(0);
  const hi = Math.max(...xs).toFixed(0);
  return lo === hi ? lo : `${lo}–${hi}`;
};
const rss = (rssModes ?? modes).map(({ mode, label, runs, env }) => {
  const results: RssRun[] = [];
  for (let i = 0; i < runs; i++) {
    const out = execFileSync(
      process.execPath,
      [
        new URL('./rss-child.mjs', import.meta.url).pathname,
        moto.endpoint,
        bucket,
        mode,
        String(RSS_BYTES),
      ],
      {
        encoding: 'utf8',
        cwd: new URL('..', import.meta.url).pathname,
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    results.push(JSON.parse(out.trim().split('\n').pop() ?? '{}') as RssRun);
  }
  const pick = (k: keyof RssRun) => results.map((r) => r[k]);
  return {
    case: `${label}, ${RSS_BYTES / MiB} MiB`,
    runs,
    'RSS after loading the SDK, MiB': range(pick('baselineMiB')),
    'peak RSS MiB': range(pick('maxRssMiB')),
    'peak heapTotal MiB': range(pick('heapTotalMiB')),
    'peak arrayBuffers MiB': range(pick('arrayBuffersMiB')),
    'MiB/s (median)': (RSS_BYTES / MiB / median(pick('seconds'))).toFixed(1),
  };
});
console.table(rss);
console.log(`load average at the end ${load()}`);
sdk.destroy();
await storage.close();
await withCopy.close();
await queue2.close();
await moto.stop();
