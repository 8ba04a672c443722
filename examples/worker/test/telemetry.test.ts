import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBackup } from '@org/backup';
import { generateKey } from '@org/backup-crypto';
import { OrgError } from '@org/core';
import { createStorage } from '@org/storage';
import { type OtelHarness, serverAvailable, startOtel } from '@org/test-utils';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createScheduler, type Job } from '../src/scheduler.js';
import type { WorkerState } from '../src/state.js';
import { pgUrl, psql } from './support/worker-process.js';

const pgUp = await serverAvailable('PostgreSQL', 5432);

let otel: OtelHarness;
beforeEach(() => {
  otel = startOtel();
});
afterEach(() => otel.close());

const memoryState = () => {
  let saved: WorkerState = { version: 1, jobs: {} };
  return {
    load: async () => structuredClone(saved),
    save: async (s: WorkerState) => {
      saved = structuredClone(s);
    },
  };
};

describe.runIf(pgUp)('worker telemetry', () => {
  const database = `worker_otel_${randomBytes(4).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'example-worker-otel-'));
  const storage = createStorage({ local: { root: dir } });

  beforeAll(async () => {
    await psql('postgres', `CREATE DATABASE ${database}`);
    await psql(database, 'CREATE TABLE orders AS SELECT i AS id FROM generate_series(1, 100) AS i');
  });
  afterAll(async () => {
    await storage.close();
    await psql('postgres', `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  it('one span per run with the backup’s spans under it; runs and durations by job and outcome', async () => {
    const backup = createBackup({
      database: { url: pgUrl(database) },
      targets: { r2: storage },
      key: generateKey(),
    });
    const jobs: Job[] = [
      {
        name: 'backup-r2',
        kind: 'backup',
        everyMs: 86_400_000,
        run: async (signal) => ({ id: (await backup.run({ signal })).id }),
      },
      {
        name: 'rotate',
        kind: 'rotate',
        everyMs: 86_400_000,
        run: async () => {
          throw new OrgError('ERR_KEY_ROTATION_STORE', 'the store is down');
        },
      },
    ];
    const scheduler = createScheduler({
      jobs,
      state: memoryState(),
      timeoutMs: 60_000,
      retryAfterMs: 60_000,
      log: () => {},
    });
    const reports = await scheduler.runDue();
    expect(reports.map((r) => r.outcome)).toEqual(['ok', 'failed']);

    const RUNS = 'org.worker.job.runs';
    expect(
      await otel.sum(RUNS, { 'org.worker.job': 'backup-r2', 'org.worker.job.outcome': 'ok' }),
    ).toBe(1);
    const [failed] = await otel.points(RUNS, { 'org.worker.job': 'rotate' });
    expect(failed?.value).toBe(1);
    expect(failed?.attributes['org.worker.job.outcome']).toBe('failed');
    expect(failed?.attributes['error.type']).toBe('ERR_KEY_ROTATION_STORE');
    expect(await otel.sum('org.worker.job.duration', { 'org.worker.job.kind': 'backup' })).toBe(1);

    const [job] = otel.spans('worker backup');
    const [run] = otel.spans('backup run');
    expect(run?.parentSpanContext?.spanId).toBe(job!.spanContext().spanId);
    expect(otel.spans('backup pg_dump')[0]?.parentSpanContext?.spanId).toBe(
      run!.spanContext().spanId,
    );
    expect(otel.spans('worker rotate')[0]?.status.code).toBe(2);
    await backup.close();
    await scheduler.close?.();
  });
});
