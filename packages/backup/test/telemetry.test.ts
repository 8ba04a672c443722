import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStorage, type Storage } from '@org/storage';
import { type OtelHarness, startOtel } from '@org/test-utils';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type BackupTarget, createBackup } from '../src/index.js';
import { fillDatabase, freshDatabase, newKey, PG_ADMIN, pgAvailable } from './harness.js';

let otel: OtelHarness;
beforeEach(() => {
  otel = startOtel(); // after @org/backup was imported: late registration
});
afterEach(() => otel.close());

/** A target whose data uploads fail (as an unreachable bucket); manifests still go through. */
function down(storage: Storage): BackupTarget {
  return {
    ...storage,
    put(key, body, options) {
      if (typeof body === 'string' || body instanceof Uint8Array)
        return storage.put(key, body, options);
      (body as NodeJS.ReadableStream).resume();
      return Promise.reject(
        Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      );
    },
  };
}

describe.runIf(pgAvailable)('backup telemetry on PostgreSQL and the local disk', () => {
  let source: Awaited<ReturnType<typeof freshDatabase>>;
  let disk: Storage;
  let other: Storage;
  const key = newKey();
  const drops: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    source = await freshDatabase('otel');
    await fillDatabase(source.url, 50);
    disk = createStorage({ local: { root: await mkdtemp(join(tmpdir(), 'backup-otel-')) } });
    other = createStorage({ local: { root: await mkdtemp(join(tmpdir(), 'backup-otel-')) } });
  });
  afterAll(async () => {
    for (const d of drops) await d();
    await disk?.close();
    await other?.close();
    await source?.drop();
  });

  const db = () => ({ 'db.namespace': source.name });

  it('a partial run: runs by outcome per target, dump and stored bytes, stage durations, client spans under the run under the caller', async () => {
    const backup = createBackup({
      database: { url: source.url },
      targets: { disk, bad: down(other) },
      key,
    });
    let result: Awaited<ReturnType<typeof backup.run>> | undefined;
    const parent = await otel.inSpan('job', async () => {
      result = await backup.run();
    });
    expect(result!.status).toBe('partial');
    const RUNS = 'org.backup.runs';
    expect(
      await otel.sum(RUNS, {
        ...db(),
        'org.backup.target': 'disk',
        'org.backup.outcome': 'partial',
      }),
    ).toBe(1);
    expect(
      await otel.sum(RUNS, { ...db(), 'org.backup.target': 'bad', 'org.backup.outcome': 'failed' }),
    ).toBe(1);
    expect(await otel.sum(RUNS)).toBe(2);
    const [dump] = await otel.points('org.backup.bytes', {
      'org.backup.target': 'disk',
      'org.backup.bytes.kind': 'dump',
    });
    expect(dump?.value).toBe(result!.manifest.plaintext.bytes);
    expect(dump?.unit).toBe('By');
    const [stored] = await otel.points('org.backup.bytes', {
      'org.backup.target': 'disk',
      'org.backup.bytes.kind': 'stored',
    });
    expect(stored?.value).toBe(result!.manifest.ciphertext.bytes);
    expect(
      await otel.points('org.backup.bytes', {
        'org.backup.target': 'bad',
        'org.backup.bytes.kind': 'stored',
      }),
    ).toEqual([]);
    const STAGE = 'org.backup.stage.duration';
    expect(await otel.sum(STAGE, { 'org.backup.stage': 'dump' })).toBe(1);
    expect(
      await otel.sum(STAGE, { 'org.backup.stage': 'upload', 'org.backup.target': 'disk' }),
    ).toBe(1);
    const [failedUpload] = await otel.points(STAGE, {
      'org.backup.stage': 'upload',
      'org.backup.target': 'bad',
    });
    expect(failedUpload?.attributes['error.type']).toBe('ECONNREFUSED');
    expect(failedUpload?.unit).toBe('s');

    const [run] = otel.spans('backup run');
    expect(run?.parentSpanContext?.spanId).toBe(parent);
    const runId = run!.spanContext().spanId;
    const [pgDump] = otel.spans('backup pg_dump');
    expect(pgDump?.parentSpanContext?.spanId).toBe(runId);
    expect(pgDump?.kind).toBe(2); // SpanKind.CLIENT
    const uploads = otel.spans('backup upload');
    expect(uploads.map((s) => s.attributes['org.backup.target']).sort()).toEqual(['bad', 'disk']);
    for (const u of uploads) expect(u.parentSpanContext?.spanId).toBe(runId);
    const bad = uploads.find((u) => u.attributes['org.backup.target'] === 'bad');
    expect(bad?.status.code).toBe(2); // ERROR
    expect(bad?.attributes['error.type']).toBe('ECONNREFUSED');
    // No backup id anywhere in the attributes.
    for (const s of otel.spans()) expect(JSON.stringify(s.attributes)).not.toContain(result!.id);
    for (const p of await otel.collect())
      expect(JSON.stringify(p.attributes)).not.toContain(result!.id);
    await backup.close();
  });

  it('a run no target stores: every target counted failed with the code', async () => {
    const backup = createBackup({
      database: { url: source.url },
      targets: { bad: down(other) },
      key,
    });
    await expect(backup.run()).rejects.toMatchObject({ code: 'ERR_BACKUP_UPLOAD_FAILED' });
    const [p] = await otel.points('org.backup.runs', { 'org.backup.target': 'bad' });
    expect(p?.value).toBe(1);
    expect(p?.attributes['org.backup.outcome']).toBe('failed');
    expect(p?.attributes['error.type']).toBe('ERR_BACKUP_UPLOAD_FAILED');
    await backup.close();
  });

  it('verify and restore: outcomes, the verified age, download / pg_restore / restore_test spans', async () => {
    let skew = 0; // the injected clock runs with the real one, `skew` ms ahead
    const backup = createBackup({
      database: { url: source.url },
      targets: { disk },
      key,
      clock: { now: () => Date.now() + skew },
    });
    await backup.run();
    const v = await backup.verify('latest', { scratchUrl: PG_ADMIN });
    expect(v.ok).toBe(true);
    expect(
      await otel.sum('org.backup.verifications', {
        ...db(),
        'org.backup.target': 'disk',
        'org.backup.outcome': 'succeeded',
      }),
    ).toBe(1);
    const age = async () =>
      (await otel.points('org.backup.verified.age', { ...db(), 'org.backup.target': 'disk' }))[0];
    const age0 = await age();
    expect(age0?.value).toBeGreaterThanOrEqual(0);
    expect(age0?.value).toBeLessThan(5); // read at the collection, moments after the verify
    expect(age0?.unit).toBe('s');
    // No verify and no look-up in between: the age grows at each collection by itself.
    skew += 3 * 86_400_000;
    const age3d = (await age())!.value;
    expect(age3d).toBeGreaterThanOrEqual(3 * 86_400);
    expect(age3d).toBeLessThan(3 * 86_400 + 60);
    skew += 86_400_000;
    expect((await age())!.value - age3d).toBeCloseTo(86_400, 0);
    const [verify] = otel.spans('backup verify');
    const test = otel.spans('backup restore_test')[0];
    expect(test?.parentSpanContext?.spanId).toBe(verify!.spanContext().spanId);
    expect(otel.spans('backup download')[0]?.parentSpanContext?.spanId).toBe(
      verify!.spanContext().spanId,
    );
    expect(otel.spans('backup pg_restore')[0]?.parentSpanContext?.spanId).toBe(
      test!.spanContext().spanId,
    );
    expect(
      await otel.sum('org.backup.stage.duration', { 'org.backup.stage': 'restore_test' }),
    ).toBe(1);

    // A look-up learns the same verified backup: the age stays what the clock says, not 0.
    expect(await backup.lastVerifiedAt()).toEqual(v.verifiedAt);
    expect((await age())!.value).toBeGreaterThanOrEqual(4 * 86_400);

    const to = await freshDatabase('otel_to');
    drops.push(to.drop);
    await backup.restore('latest', { to: to.url });
    await expect(backup.restore('latest', { to: to.url })).rejects.toMatchObject({
      code: 'ERR_BACKUP_TARGET_NOT_EMPTY',
    });
    const RESTORES = 'org.backup.restores';
    expect(
      await otel.sum(RESTORES, { 'org.backup.target': 'disk', 'org.backup.outcome': 'succeeded' }),
    ).toBe(1);
    const [failed] = await otel.points(RESTORES, { 'org.backup.outcome': 'failed' });
    expect(failed?.attributes['error.type']).toBe('ERR_BACKUP_TARGET_NOT_EMPTY');
    const restores = otel.spans('backup restore');
    expect(restores).toHaveLength(2);
    const pgRestore = otel
      .spans('backup pg_restore')
      .filter((s) => s.parentSpanContext?.spanId === restores[0]!.spanContext().spanId);
    expect(pgRestore).toHaveLength(1);
    await backup.close();
    // Closed: not read any more (a provider registered now never sees it).
    await otel.close();
    otel = startOtel();
    await Promise.resolve();
    expect(await otel.points('org.backup.verified.age')).toEqual([]);
  });

  it('the age of a backup verified before this process started, learned by lastVerifiedAt alone', async () => {
    const first = createBackup({ database: { url: source.url }, targets: { disk }, key });
    await first.run();
    const v = await first.verify('latest', { scratchUrl: PG_ADMIN });
    await first.close();
    await otel.close(); // a new process: no SDK until after the instance is made
    let skew = 2 * 86_400_000;
    const later = createBackup({
      database: { url: source.url },
      targets: { disk },
      key,
      clock: { now: () => Date.now() + skew },
    });
    otel = startOtel();
    await Promise.resolve();
    expect(await otel.points('org.backup.verified.age')).toEqual([]); // nothing learned yet
    expect((await later.lastVerifiedAt())?.getTime()).toBeGreaterThanOrEqual(
      v.verifiedAt!.getTime(),
    );
    const age = async () =>
      (await otel.points('org.backup.verified.age', { ...db(), 'org.backup.target': 'disk' }))[0]
        ?.value;
    const before = (await age())!;
    expect(before).toBeGreaterThanOrEqual(2 * 86_400);
    skew += 3_600_000;
    expect((await age())! - before).toBeCloseTo(3_600, 0);
    await later.close();
  });
});
