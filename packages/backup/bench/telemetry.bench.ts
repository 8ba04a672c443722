/**
 * What telemetry costs a backup run (a small database dumped, encrypted and stored on the local
 * disk): this package as it is against its build from the commit before its telemetry (each
 * bundled with its own @org/core), in one process, in paired rounds; first with no
 * OpenTelemetry SDK (a second copy of the old build against the old build shows the machine's
 * noise), then with an in-memory SDK registered (the added cost per run: the run's span, the
 * stage spans and their records). Needs PostgreSQL at 127.0.0.1:5432.
 *
 *   cd packages/backup && BENCH_ROUNDS=15 npx tsx --conditions=@org/source bench/telemetry.bench.ts
 *   (BENCH_BASELINE_REF=<commit> to compare with another build; BENCH_NOISE=0 without the noise row)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { generateKey } from '@org/backup-crypto';
import { createStorage } from '@org/storage';
import {
  addedNsPerCall,
  buildForBench,
  commitBefore,
  fineRatioRow,
  startOtel,
} from '@org/test-utils';
import { pairedRatio } from '@org/test-utils/bench';
import pg from 'pg';
import { build } from 'tsup';

type Module = typeof import('../src/index.js');
// The baseline: the commit before this package's telemetry, so that only telemetry differs.
const builds = await buildForBench(
  'backup',
  build,
  process.env.BENCH_BASELINE_REF ?? commitBefore('src/telemetry.ts'),
);
const before = (await import(builds.baseline)) as Module;
const after = (await import(builds.current)) as Module;
const twin = (await import(`${pathToFileURL(builds.baseline).href}?twin`)) as Module;

const ADMIN = 'postgres://postgres@127.0.0.1:5432/postgres';
const database = `backup_otel_bench_${process.pid}`;
const admin = new pg.Client({ connectionString: ADMIN });
await admin.connect();
await admin.query(`CREATE DATABASE ${database}`);
const url = `postgres://postgres@127.0.0.1:5432/${database}`;
const seed = new pg.Client({ connectionString: url });
await seed.connect();
await seed.query(
  `CREATE TABLE notes AS SELECT i AS id, md5(i::text) AS body FROM generate_series(1, 2000) AS i`,
);
await seed.end();

const root = await mkdtemp(join(tmpdir(), 'org-backup-otel-bench-'));
const storage = createStorage({ local: { root } });
const key = generateKey();
const task = (m: Module) => {
  const backup = m.createBackup({ database: { url }, targets: { disk: storage }, key });
  return async () => {
    await backup.run();
  };
};

try {
  console.log(`baseline: ${builds.ref.slice(0, 12)} (before telemetry)`);
  console.log('| call | now ÷ before (median) | range | with the SDK: added per call |');
  console.log('|---|---|---|---|');
  const o = { time: 2_000, warmupTime: 300 };
  // BENCH_NOISE=0 skips the noise row (a run costs a fifth of a second: a row of 15 rounds is
  // a quarter of an hour on a loaded machine).
  if (process.env.BENCH_NOISE !== '0') {
    const aa = await pairedRatio(task(twin), task(before), o);
    console.log(
      fineRatioRow('run() of 2,000 rows to disk, no SDK: before ÷ before (noise)', aa, ''),
    );
  }
  const off = await pairedRatio(task(after), task(before), o);
  const otel = startOtel();
  const on = await pairedRatio(task(after), task(before), o);
  await otel.close();
  const ms = addedNsPerCall(on) / 1e6;
  console.log(
    fineRatioRow(
      'run() of 2,000 rows to disk, no SDK',
      off,
      `${ms.toFixed(2)} ms (SDK ÷ before ${on.median.toFixed(3)}×, ${on.min.toFixed(3)}–${on.max.toFixed(3)}×)`,
    ),
  );
  console.log(`a run takes ${(1000 / off.anchorHz).toFixed(0)} ms here (median, before)`);
} finally {
  await storage.close();
  await rm(root, { recursive: true, force: true });
  await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin.end();
}
