// End-to-end throughput of `run` and `restore` against the shell pipeline a user would pick
// instead (postgres-backup-s3's: `pg_dump | gzip | openssl enc | aws s3 cp -`, and back), both
// to the same moto_server on this machine, in paired alternating rounds; then each stage of our
// pipeline alone, as a multiple of the end-to-end rate, to show which one bounds it.
// Run: npx tsx --conditions=@org/source bench/backup.bench.ts (needs PostgreSQL, moto_server,
// openssl and the aws CLI). BENCH_SCALE sets the rows (60,000: about 100 MB of database).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { PassThrough, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import {
  createChunkedDecryptStream,
  createChunkedEncryptStream,
  generateKey,
} from '@org/backup-crypto';
import { createStorage } from '@org/storage';
import { startMotoServer } from '@org/test-utils';
import { Bench } from 'tinybench';
import { createBackup } from '../src/index.js';
import { dbTarget, tableStats, withClient } from '../src/pg.js';
import { fillDatabase, freshDatabase, sql } from '../test/harness.js';

const SCALE = Number(process.env.BENCH_SCALE ?? 60_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const MB = 1e6;
console.log(
  `Node ${process.version}, load average at the start ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);

const moto = await startMotoServer(existsSync('/dev/shm') ? { env: { TMPDIR: '/dev/shm' } } : {});
const connection = {
  endpoint: moto.endpoint,
  region: 'us-east-1',
  forcePathStyle: true,
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
};
const admin = new S3Client(connection);
for (const b of ['ours', 'ours2', 'anchor'])
  await admin.send(new CreateBucketCommand({ Bucket: b }));
const storage = (bucket: string) =>
  createStorage({ s3: { bucket, ...connection, idleTimeout: 300_000 }, timeout: 600_000 });
const ours = storage('ours');
const ours2 = storage('ours2');

const source = await freshDatabase('bench');
await fillDatabase(source.url, SCALE);
const [{ size }] = (await sql<{ size: string }>(
  source.url,
  'SELECT pg_database_size(current_database())::text AS size',
)) as [{ size: string }];
const dbBytes = Number(size);
console.log(`database: ${(dbBytes / MB).toFixed(0)} MB (${SCALE} rows per table)`);

const key = generateKey();
const one = createBackup({ database: { url: source.url }, targets: { a: ours }, key });
const two = createBackup({ database: { url: source.url }, targets: { a: ours, b: ours2 }, key });
const noChecksums = createBackup({
  database: { url: source.url },
  targets: { a: ours },
  key,
  tableChecksums: false,
});

const shellEnv = {
  ...process.env,
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_DEFAULT_REGION: 'us-east-1',
  PASSPHRASE: key,
  E: moto.endpoint,
};
function sh(script: string, env: Record<string, string> = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-o', 'pipefail', '-c', script], {
      env: { ...shellEnv, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (c: Buffer) => {
      err += c;
    });
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${script}: ${code} ${err}`)),
    );
  });
}
const anchorRun = () =>
  sh(
    'pg_dump --dbname="$DB" | gzip | openssl enc -aes-256-cbc -pbkdf2 -pass env:PASSPHRASE | aws --endpoint-url "$E" s3 cp - s3://anchor/dump.sql.gz.enc',
    { DB: source.url },
  );
const anchorRestore = (to: string) =>
  sh(
    'aws --endpoint-url "$E" s3 cp s3://anchor/dump.sql.gz.enc - | openssl enc -d -aes-256-cbc -pbkdf2 -pass env:PASSPHRASE | gunzip | psql -X -q -v ON_ERROR_STOP=1 --single-transaction --dbname="$TO" > /dev/null',
    { TO: to },
  );

interface Row {
  name: string;
  ratios: number[];
  oursMBps: number[];
  anchorMBps: number[];
}
const median = (xs: number[]) =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

/** One tinybench run of one iteration per task, the order alternating round by round. */
async function paired(
  name: string,
  oursTask: () => Promise<unknown>,
  anchorTask: () => Promise<unknown>,
  before?: () => Promise<void>,
  after?: () => Promise<void>,
): Promise<Row> {
  const row: Row = { name, ratios: [], oursMBps: [], anchorMBps: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const bench = new Bench({ iterations: 1, time: 0, warmup: false });
    const tasks: [string, () => Promise<unknown>][] = [
      ['ours', oursTask],
      ['anchor', anchorTask],
    ];
    if (round % 2 === 1) tasks.reverse();
    for (const [label, fn] of tasks) {
      bench.add(
        label,
        async () => {
          await fn();
        },
        before && after ? { beforeEach: before, afterEach: after } : {},
      );
    }
    await bench.run();
    const ms = (label: string) => bench.getTask(label)?.result?.latency?.mean ?? Number.NaN;
    row.ratios.push(ms('anchor') / ms('ours'));
    row.oursMBps.push(dbBytes / MB / (ms('ours') / 1000));
    row.anchorMBps.push(dbBytes / MB / (ms('anchor') / 1000));
    console.log(
      `  ${name}, round ${round + 1}: ours ${ms('ours').toFixed(0)} ms, anchor ${ms('anchor').toFixed(0)} ms`,
    );
  }
  return row;
}

const rows: Row[] = [];
await anchorRun();
await one.run();
rows.push(await paired('run, one target', () => one.run(), anchorRun));
rows.push(await paired('run, two targets at once', () => two.run(), anchorRun));
rows.push(
  await paired('run, one target, tableChecksums: false', () => noChecksums.run(), anchorRun),
);

// Restores go into a fresh database each time, made and dropped outside the measured time.
let dest: Awaited<ReturnType<typeof freshDatabase>> | undefined;
const fresh = async () => {
  dest = await freshDatabase('benchdst');
};
const drop = async () => {
  await dest?.drop();
};
rows.push(
  await paired(
    'restore (check pass + pg_restore)',
    () => one.restore('latest', { to: dest!.url }),
    () => anchorRestore(dest!.url),
    fresh,
    drop,
  ),
);

console.log(
  '\n| case | ours ÷ anchor throughput, median | range | ours MB/s | anchor MB/s |\n|---|---|---|---|---|',
);
for (const r of rows) {
  const lo = Math.min(...r.ratios).toFixed(2);
  const hi = Math.max(...r.ratios).toFixed(2);
  console.log(
    `| ${r.name} | ${median(r.ratios).toFixed(2)}× | ${lo}–${hi}× | ${median(r.oursMBps).toFixed(1)} | ${median(r.anchorMBps).toFixed(1)} |`,
  );
}

// Each stage alone on the same bytes, timed right after an end-to-end run (or restore) of ours
// in the same repetition: the ratio end-to-end time ÷ stage time is how many times faster than
// the whole the stage runs alone; the stage nearest 1× bounds the pipeline. Median of STAGE_REPS.
const STAGE_REPS = Number(process.env.BENCH_STAGE_REPS ?? 3);
const timeIt = async (fn: () => Promise<unknown>) => {
  const t = performance.now();
  await fn();
  return performance.now() - t;
};
const collect = async (src: Readable) => {
  const parts: Buffer[] = [];
  for await (const c of src) parts.push(c as Buffer);
  return Buffer.concat(parts);
};
const sink = () => new Writable({ write: (_c, _e, cb) => cb() });
const stageRatios: Record<string, number[]> = {};
const note = (name: string, whole: number, part: number) => {
  stageRatios[name] ??= [];
  stageRatios[name].push(whole / part);
};
let sizes = '';
for (let rep = 0; rep < STAGE_REPS; rep++) {
  const runMs = await timeIt(() => one.run());
  const [latest] = await one.list();
  const m = latest!.manifest!;
  sizes = `dump ${(m.plaintext.bytes / MB).toFixed(0)} MB, stored ${(m.ciphertext.bytes / MB).toFixed(0)} MB`;
  let dump = Buffer.alloc(0);
  note(
    'run: pg_dump -Fc -Z0',
    runMs,
    await timeIt(async () => {
      const child = spawn(
        'pg_dump',
        ['--format=custom', '--compress=0', `--dbname=${source.url}`],
        { stdio: ['ignore', 'pipe', 'ignore'] },
      );
      dump = await collect(child.stdout);
    }),
  );
  note(
    'run: table checksums (beside pg_dump)',
    runMs,
    await timeIt(() => withClient(dbTarget(source.url, 'db'), undefined, tableStats)),
  );
  let gz = Buffer.alloc(0);
  note(
    'run: gzip level 3',
    runMs,
    await timeIt(async () => {
      gz = await collect(Readable.from([dump]).pipe(createGzip({ level: 3 })));
    }),
  );
  let enc = Buffer.alloc(0);
  note(
    'run: chunked Fernet encrypt',
    runMs,
    await timeIt(async () => {
      enc = await collect(Readable.from([gz]).pipe(createChunkedEncryptStream(key)));
    }),
  );
  note(
    'run: upload to moto',
    runMs,
    await timeIt(() => ours.put('stage/upload.bin', Readable.from([enc]))),
  );
  const target = await freshDatabase('benchstage');
  const restoreMs = await timeIt(() => one.restore('latest', { to: target.url }));
  await target.drop();
  // The check pass and the load pass each download, decrypt and decompress: twice per restore.
  note(
    'restore: download from moto, twice',
    restoreMs,
    2 * (await timeIt(async () => pipeline(await ours.getStream(m.object), sink()))),
  );
  note(
    'restore: chunked Fernet decrypt, twice',
    restoreMs,
    2 *
      (await timeIt(() => pipeline(Readable.from([enc]), createChunkedDecryptStream(key), sink()))),
  );
  note(
    'restore: gunzip, twice',
    restoreMs,
    2 * (await timeIt(() => pipeline(Readable.from([gz]), createGunzip(), sink()))),
  );
  const into = await freshDatabase('benchstage');
  note(
    'restore: pg_restore --single-transaction',
    restoreMs,
    await timeIt(async () => {
      const child = spawn(
        'pg_restore',
        ['--single-transaction', '--no-owner', `--dbname=${into.url}`],
        { stdio: ['pipe', 'ignore', 'ignore'] },
      );
      const done = new Promise((r) => child.on('close', r));
      await pipeline(Readable.from([dump]), new PassThrough(), child.stdin);
      await done;
    }),
  );
  await into.drop();
}
console.log(`\n${sizes}\n`);
console.log('| stage, alone | × the end-to-end rate, median | range |\n|---|---|---|');
for (const [name, xs] of Object.entries(stageRatios)) {
  console.log(
    `| ${name} | ${median(xs).toFixed(1)}× | ${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}× |`,
  );
}

for (const s of [ours, ours2]) await s.close();
admin.destroy();
await source.drop();
await moto.stop();
