import { createKeyRing, createMemoryKeyStore, createRotationSchedule } from '@org/key-rotation';
import { describe, expect, it } from 'vitest';
import { encryptionKey, manualClock } from './helpers.js';

const DAY = 86_400_000;

describe('createRotationSchedule', () => {
  it('stages a key stageAhead before the rotation, then rotates every N days', async () => {
    const clock = manualClock();
    const ring = await createKeyRing({ algorithm: 'ES256', clock });
    const schedule = createRotationSchedule(ring, { everyDays: 30, stageAhead: 2 * DAY, clock });
    const first = ring.keys()[0]!.kid;
    expect(schedule.due()).toBeUndefined();
    expect(await schedule.run()).toBeUndefined();
    clock.advance(28 * DAY);
    expect(schedule.due()).toBe('stage');
    expect(await schedule.run()).toBe('stage');
    const pending = ring.keys().find((k) => k.status === 'pending')!;
    expect(ring.jwks().keys.map((k) => k.kid)).toContain(pending.kid);
    expect(schedule.due()).toBeUndefined();
    clock.advance(2 * DAY);
    expect(schedule.due()).toBe('rotate');
    expect(await schedule.run()).toBe('rotate');
    expect(ring.keys().find((k) => k.status === 'active')!.kid).toBe(pending.kid);
    expect(ring.keys().find((k) => k.kid === first)!.status).toBe('verify-only');
    expect(schedule.due()).toBeUndefined();
  });

  it('many instances running the schedule at once rotate once', async () => {
    const clock = manualClock();
    const store = createMemoryKeyStore();
    const opts = { algorithm: 'HS256' as const, clock, store, encryptionKey, refreshInterval: 0 };
    const rings = [await createKeyRing(opts), await createKeyRing(opts), await createKeyRing(opts)];
    const schedules = rings.map((r) => createRotationSchedule(r, { everyDays: 7, clock }));
    clock.advance(6 * DAY);
    const staged = await Promise.all(schedules.map((s) => s.run()));
    expect(staged.filter((a) => a === 'stage')).toHaveLength(1);
    expect(rings[0]!.keys().filter((k) => k.status === 'pending')).toHaveLength(1);
    clock.advance(DAY);
    const rotated = await Promise.all(schedules.map((s) => s.run()));
    expect(rotated.filter((a) => a === 'rotate')).toHaveLength(1);
    await rings[2]!.refresh();
    const keys = rings[2]!.keys();
    expect(keys).toHaveLength(2);
    expect(keys.map((k) => k.status).sort()).toEqual(['active', 'verify-only']);
  });

  it('start() uses an unref-ed timer and stop() ends it', async () => {
    const ring = await createKeyRing({ algorithm: 'HS256' });
    const schedule = createRotationSchedule(ring, { everyDays: 1e-9, checkInterval: 10 });
    const rotations: string[] = [];
    schedule.on('rotate', (e) => rotations.push(e.kid));
    const stop = schedule.start();
    await expect.poll(() => rotations.length, { timeout: 2000 }).toBeGreaterThan(0);
    stop();
    await new Promise((r) => setTimeout(r, 50)); // a run already under way may still finish
    const n = rotations.length;
    await new Promise((r) => setTimeout(r, 50));
    expect(rotations.length).toBe(n);
    expect(() => createRotationSchedule(ring, { everyDays: 0 })).toThrow(/everyDays/);
  });
});
