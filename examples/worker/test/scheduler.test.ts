import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStorage, type Storage } from '@org/storage';
import { afterEach, describe, expect, it } from 'vitest';
import { createScheduler, type Job, nextRunAt } from '../src/scheduler.js';
import { type StateStore, storageState, type WorkerState } from '../src/state.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.parse('2026-12-01T02:00:00Z');

const memoryState = (
  initial: WorkerState = { version: 1, jobs: {} },
): StateStore & { saved: WorkerState } => {
  const store = {
    saved: structuredClone(initial),
    async load() {
      return structuredClone(store.saved);
    },
    async save(s: WorkerState) {
      store.saved = structuredClone(s);
    },
  };
  return store;
};

const clockAt = (t: number) => ({
  t,
  now() {
    return this.t;
  },
});
const noLog = () => {};

function job(name: string, everyMs: number, run: Job['run'] = async () => ({})): Job {
  return { name, kind: 'backup', everyMs, run };
}

describe('scheduler', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0)) await c();
  });

  it('a restart reads the last runs from the target storage: due one interval after the last success, an hour early at most', async () => {
    const root = mkdtempSync(join(tmpdir(), 'worker-state-'));
    const storage: Storage = createStorage({ local: { root } });
    cleanup.push(
      () => storage.close(),
      () => rmSync(root, { recursive: true, force: true }),
    );
    let runs = 0;
    const daily = job('backup-r2', DAY, async () => ({ run: ++runs }));
    const make = (t: number) =>
      createScheduler({
        jobs: [daily],
        state: storageState(storage),
        timeoutMs: HOUR,
        retryAfterMs: HOUR,
        log: noLog,
        clock: clockAt(t),
      });

    expect((await make(T0).runDue()).map((r) => r.outcome)).toEqual(['ok']);
    // The process restarts: the state comes from the storage, not from memory.
    expect(await make(T0 + 5 * HOUR).runDue()).toEqual([]);
    expect(await make(T0 + DAY - HOUR - 1).runDue()).toEqual([]);
    // A cron job firing a little before the exact time still finds it due.
    const early = await make(T0 + DAY - 30 * 60_000).runDue();
    expect(early.map((r) => r.summary)).toEqual([{ run: 2 }]);
    expect(runs).toBe(2);
  });

  it('the in-process loop starts a run on time, not early like a cron run may (no drift)', async () => {
    const due = Date.now() + 600;
    const last = new Date(due - 2_000).toISOString();
    const state = memoryState({
      version: 1,
      jobs: { 'backup-r2': { lastOkAt: last, lastStartedAt: last, outcome: 'ok' } },
    });
    let ranAt = 0;
    const s = createScheduler({
      jobs: [
        job('backup-r2', 2_000, async () => {
          ranAt ||= Date.now();
          return {};
        }),
      ],
      state,
      timeoutMs: HOUR,
      retryAfterMs: HOUR,
      log: noLog,
    });
    s.start();
    cleanup.push(() => s.close());
    while (ranAt === 0) await new Promise((r) => setTimeout(r, 20));
    // A tenth of the interval (200 ms) early would be allowed for RUN_ONCE, not for the loop.
    expect(ranAt).toBeGreaterThanOrEqual(due - 2);
  });

  it('a failed run alerts and is tried again after retryAfter, not at once and not only after a whole interval', async () => {
    const state = memoryState();
    const alerts: { kind: string; details: Record<string, unknown> }[] = [];
    let fail = true;
    const daily = job('backup-r2', DAY, async () => {
      if (fail) throw new Error('connect ECONNREFUSED postgres://app:hunter2@db:5432/app');
      return {};
    });
    const clock = clockAt(T0);
    const s = createScheduler({
      jobs: [daily],
      state,
      timeoutMs: HOUR,
      retryAfterMs: HOUR,
      log: noLog,
      clock,
      alerts: { alert: (kind, details) => alerts.push({ kind, details }) },
    });
    const [failed] = await s.runDue();
    expect(failed).toMatchObject({ outcome: 'failed' });
    expect(failed?.error).not.toContain('hunter2');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      kind: 'worker_run_failed',
      details: { level: 'error', tags: { job: 'backup-r2' } },
    });
    expect(JSON.stringify(alerts)).not.toContain('hunter2');
    expect(nextRunAt(daily, state.saved.jobs['backup-r2'], HOUR)).toBe(T0 + HOUR);
    clock.t = T0 + 30 * 60_000;
    expect(await s.runDue()).toEqual([]);
    clock.t = T0 + HOUR;
    fail = false;
    expect((await s.runDue()).map((r) => r.outcome)).toEqual(['ok']);
    // The next one is a day after the run that succeeded.
    expect(nextRunAt(daily, state.saved.jobs['backup-r2'], HOUR)).toBe(T0 + HOUR + DAY);
  });

  it('runs never overlap: the loop and RUN_ONCE-style calls queue behind one another', async () => {
    let inFlight = 0;
    let most = 0;
    const slow = async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 30));
      inFlight--;
      return {};
    };
    const s = createScheduler({
      jobs: [job('backup-r2', DAY, slow), { ...job('verify', DAY, slow), kind: 'verify' }],
      state: memoryState(),
      timeoutMs: HOUR,
      retryAfterMs: HOUR,
      log: noLog,
    });
    const all = await Promise.all([
      s.runDue({ force: true }),
      s.runDue({ force: true }),
      s.runDue({ kind: 'verify', force: true }),
    ]);
    expect(all.flat()).toHaveLength(5);
    expect(most).toBe(1);
  });

  it('a run past its timeout is cut (ERR_TIMEOUT) and alerted, even when its package said it alerts', async () => {
    const alerts: string[] = [];
    let sawAbort = false;
    const stuck: Job = {
      ...job(
        'backup-r2',
        DAY,
        (signal) =>
          new Promise((_, reject) =>
            signal.addEventListener('abort', () => {
              sawAbort = true;
              reject(signal.reason);
            }),
          ),
      ),
      alertsOwnFailures: true,
    };
    const s = createScheduler({
      jobs: [stuck],
      state: memoryState(),
      timeoutMs: 50,
      retryAfterMs: HOUR,
      log: noLog,
      alerts: { alert: (kind) => alerts.push(kind) },
    });
    const t0 = performance.now();
    const [r] = await s.runDue();
    expect(performance.now() - t0).toBeLessThan(1_000);
    expect(r).toMatchObject({
      outcome: 'failed',
      error: expect.stringMatching(/timed out after 100 ms/),
    });
    expect(sawAbort).toBe(true);
    expect(alerts).toEqual(['worker_run_failed']);
  });

  it('close() aborts the run under way and waits for it; the aborted run is due again at the next start', async () => {
    const state = memoryState();
    const alerts: string[] = [];
    let cleanedUp = false;
    const s = createScheduler({
      jobs: [
        job(
          'backup-r2',
          DAY,
          (signal) =>
            new Promise((_, reject) =>
              signal.addEventListener('abort', () => {
                setTimeout(() => {
                  cleanedUp = true;
                  reject(signal.reason);
                }, 20);
              }),
            ),
        ),
      ],
      state,
      timeoutMs: HOUR,
      retryAfterMs: HOUR,
      log: noLog,
      alerts: { alert: (kind) => alerts.push(kind) },
    });
    s.start();
    await new Promise((r) => setTimeout(r, 50));
    expect(s.status()[0]?.running).toBe(true);
    await s.close();
    expect(cleanedUp).toBe(true);
    expect(state.saved.jobs['backup-r2']?.outcome).toBe('aborted');
    expect(alerts).toEqual([]);
    expect(nextRunAt(job('backup-r2', DAY), state.saved.jobs['backup-r2'], HOUR)).toBe(0);
    await s.close(); // idempotent
    expect(() => s.start()).toThrow(expect.objectContaining({ code: 'ERR_WORKER_INVALID_OPTION' }));
  });
});
