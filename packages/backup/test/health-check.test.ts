import { readFile } from 'node:fs/promises';
import { createHealth, type HealthCheck } from '@org/health';
import { afterEach, describe, expect, it } from 'vitest';
import { isBackupError } from '../src/errors.js';
import {
  type LastVerifiedBackupCheckOptions,
  lastVerifiedBackupCheck,
} from '../src/health-check.js';

const NOW = Date.parse('2026-12-04T12:00:00Z');
const HOUR = 3_600_000;
const ago = (ms: number) => new Date(NOW - ms);

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

function healthWith(options: Partial<LastVerifiedBackupCheckOptions>, clock = { now: () => NOW }) {
  const backup = lastVerifiedBackupCheck({
    lastVerifiedAt: async () => ago(2 * HOUR),
    maxAge: '26h',
    clock,
    ...options,
  });
  // The structural type fits @org/health's own, with no import of it in the source.
  const asHealthCheck: HealthCheck = backup;
  const health = createHealth({ checks: { [backup.name]: asHealthCheck }, cache: 0 });
  closers.push(() => health.close());
  return { health, backup };
}

describe('lastVerifiedBackupCheck: options', () => {
  it.each<[string, Record<string, unknown>]>([
    ['no lastVerifiedAt', { maxAge: '1d' }],
    ['a lastVerifiedAt that is no function', { lastVerifiedAt: new Date(), maxAge: '1d' }],
    ['no maxAge', { lastVerifiedAt: async () => undefined }],
    ['a maxAge of 0', { lastVerifiedAt: async () => undefined, maxAge: 0 }],
    ['a maxAge without unit', { lastVerifiedAt: async () => undefined, maxAge: '26' }],
    ['the name "status"', { lastVerifiedAt: async () => undefined, maxAge: '1d', name: 'status' }],
    ['a name with ":"', { lastVerifiedAt: async () => undefined, maxAge: '1d', name: 'a:b' }],
    ['a negative cache', { lastVerifiedAt: async () => undefined, maxAge: '1d', cache: -1 }],
    [
      'a critical that is no boolean',
      { lastVerifiedAt: async () => undefined, maxAge: '1d', critical: 'yes' },
    ],
    ['a clock without now', { lastVerifiedAt: async () => undefined, maxAge: '1d', clock: {} }],
  ])('refuses %s with ERR_BACKUP_INVALID_OPTION', (_, options) => {
    let caught: unknown;
    try {
      lastVerifiedBackupCheck(options as unknown as LastVerifiedBackupCheckOptions);
    } catch (err) {
      caught = err;
    }
    expect(isBackupError(caught, 'ERR_BACKUP_INVALID_OPTION')).toBe(true);
  });

  it('declares the check shape itself: the source does not import @org/health', async () => {
    const source = await readFile(new URL('../src/health-check.ts', import.meta.url), 'utf8');
    expect(source).not.toMatch(/from '@org\/health'/);
  });
});

describe('lastVerifiedBackupCheck inside createHealth', () => {
  it('healthy while the newest verified backup is younger than maxAge; the age in seconds', async () => {
    const { health } = healthWith({});
    const report = await health.full();
    expect(report.status).toBe('healthy');
    expect(report.checks.backup).toMatchObject({
      status: 'ok',
      critical: false,
      measurement: 'age',
      observedValue: 7200,
      observedUnit: 's',
      componentType: 'component',
      details: {
        lastVerifiedAt: '2026-12-04T10:00:00.000Z',
        ageSeconds: 7200,
        maxAgeSeconds: 93_600,
      },
    });
  });

  it('past maxAge it warns and the report is degraded, critical or not', async () => {
    for (const critical of [false, true]) {
      const { health } = healthWith({ lastVerifiedAt: async () => ago(30 * HOUR), critical });
      const report = await health.full();
      expect(report.status).toBe('degraded');
      expect(report.checks.backup).toMatchObject({
        status: 'warn',
        observedValue: 30 * 3600,
        reason: 'the newest verified backup is 30 h old, past the 26 h allowed',
      });
    }
  });

  it('exactly maxAge is still fine; a date ahead of the clock reads as age 0', async () => {
    expect(
      (await healthWith({ lastVerifiedAt: async () => ago(26 * HOUR) }).health.full()).status,
    ).toBe('healthy');
    const ahead = await healthWith({ lastVerifiedAt: async () => ago(-HOUR) }).health.full();
    expect(ahead.checks.backup).toMatchObject({ status: 'ok', observedValue: 0 });
  });

  it('no verified backup at all fails with a clear reason: degraded, or unhealthy when critical', async () => {
    const soft = await healthWith({ lastVerifiedAt: async () => undefined }).health.full();
    expect(soft.status).toBe('degraded');
    expect(soft.checks.backup).toMatchObject({
      status: 'fail',
      reason: 'no verified backup: run `backup verify` (or check that backups run)',
      details: { lastVerifiedAt: null, ageSeconds: null, maxAgeSeconds: 93_600 },
    });
    const { health } = healthWith({
      lastVerifiedAt: async () => undefined,
      critical: true,
      name: 'nightly',
    });
    const hard = await health.full();
    expect(hard.status).toBe('unhealthy');
    expect(hard.checks.nightly?.status).toBe('fail');
  });

  it('a non-critical check stays out of readiness; a critical one takes the instance out', async () => {
    const soft = healthWith({ lastVerifiedAt: async () => undefined }).health;
    soft.markReady();
    const hard = healthWith({ lastVerifiedAt: async () => undefined, critical: true }).health;
    hard.markReady();
    const probe = (h: typeof soft) => h.fetchHandler(new Request('http://svc/health'));
    expect((await probe(soft)).status).toBe(200);
    expect((await probe(hard)).status).toBe(503);
  });

  it('a lookup that throws fails the check with a scrubbed reason', async () => {
    const { health } = healthWith({
      lastVerifiedAt: async () => {
        throw new Error(
          'list failed for https://AKIAIOSFODNN7EXAMPLE:s3cr3t@bucket.example/manifests',
        );
      },
    });
    const report = await health.full();
    expect(report.checks.backup?.status).toBe('fail');
    expect(report.checks.backup?.reason).toMatch(/list failed/);
    expect(report.checks.backup?.reason).not.toMatch(/s3cr3t|AKIA/);
  });

  it('a lookup that resolves with no Date fails with ERR_BACKUP_INVALID_OPTION', async () => {
    const { backup } = healthWith({ lastVerifiedAt: async () => '2026-12-04' as unknown as Date });
    await expect(backup.check(new AbortController().signal)).rejects.toMatchObject({
      code: 'ERR_BACKUP_INVALID_OPTION',
    });
    const { health } = healthWith({ lastVerifiedAt: async () => new Date('nope') });
    expect((await health.full()).checks.backup?.status).toBe('fail');
  });

  it('hands the lookup the signal, which aborts at the check timeout', async () => {
    let aborted = false;
    const { health } = healthWith({
      timeout: '50ms',
      lastVerifiedAt: (signal) =>
        new Promise((_, reject) =>
          signal.addEventListener('abort', () => {
            aborted = true;
            reject(signal.reason);
          }),
        ),
    });
    const report = await health.full();
    expect(report.checks.backup?.status).toBe('timeout');
    expect(aborted).toBe(true);
  });

  it('reuses a looked-up date for `cache`, while the age follows the clock', async () => {
    let now = NOW;
    let lookups = 0;
    const clock = { now: () => now };
    const { health } = healthWith(
      {
        cache: '10m',
        lastVerifiedAt: async () => {
          lookups++;
          return ago(HOUR);
        },
      },
      clock,
    );
    expect((await health.full()).checks.backup?.observedValue).toBe(3600);
    now += 5 * 60_000;
    expect((await health.full()).checks.backup?.observedValue).toBe(3900);
    expect(lookups).toBe(1);
    now += 6 * 60_000;
    await health.full();
    expect(lookups).toBe(2);
    now -= 60 * 60_000; // a clock that went backwards expires the cache
    await health.full();
    expect(lookups).toBe(3);
  });

  it('cache: 0 looks up at every probe; a failed lookup is not cached', async () => {
    let calls = 0;
    const { health } = healthWith({
      cache: 0,
      lastVerifiedAt: async () => {
        calls++;
        if (calls === 1) throw new Error('bucket unreachable');
        return ago(HOUR);
      },
    });
    expect((await health.full()).checks.backup?.status).toBe('fail');
    expect((await health.full()).checks.backup?.status).toBe('ok');
    expect((await health.full()).checks.backup?.status).toBe('ok');
    expect(calls).toBe(3);
  });

  it('shows in the IETF report served over HTTP', async () => {
    const { health } = healthWith({});
    health.markReady();
    const res = await health.fetchHandler(
      new Request('http://svc/health/full', { headers: { accept: 'application/health+json' } }),
    );
    const body = (await res.json()) as {
      checks: Record<string, { observedValue: number; observedUnit: string }[]>;
    };
    expect(body.checks['backup:age']?.[0]).toMatchObject({
      observedValue: 7200,
      observedUnit: 's',
    });
  });
});
