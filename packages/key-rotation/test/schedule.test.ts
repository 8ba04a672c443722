import { createKeyRing, createMemoryKeyStore, createRotationSchedule } from '@org/key-rotation';
import { describe, expect, it } from 'vitest';
import { encryptionKey, manualClock } from './helpers.js';

const DAY = 86_400_000;

describe('createRotationSchedule', () => {
  it('stages a key stageAhead before the rotation, then rotates every interval', async () => {
    const clock = manualClock();
    const ring = await createKeyRing({ algorithm: 'ES256', clock });
    const schedule = createRotationSchedule(ring, { interval: '30d', stageAhead: 2 * DAY, clock });
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
    const schedules = rings.map((r) => createRotationSchedule(r, { interval: '7d', clock }));
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

  it('start() uses an unref-ed timer and close() ends it', async () => {
    const ring = await createKeyRing({ algorithm: 'HS256' });
    const schedule = createRotationSchedule(ring, { interval: 1, checkInterval: '10ms' });
    const rotations: string[] = [];
    schedule.on('schedule-rotate', (e) => rotations.push(e.kid));
    expect(schedule.start()).toBe(schedule);
    await expect.poll(() => rotations.length, { timeout: 2000 }).toBeGreaterThan(0);
    await schedule.close();
    await schedule.close();
    // close() waited for a run already under way: nothing rotates after it.
    const n = rotations.length;
    await new Promise((r) => setTimeout(r, 50));
    expect(rotations.length).toBe(n);
    await ring.close();
    expect(() => createRotationSchedule(ring, { interval: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_KEY_ROTATION_INVALID_OPTION' }),
    );
    expect(() => createRotationSchedule(ring, { interval: 0 })).toThrow(/interval/);
  });

  it('its events are its own: the ring publishes each rotation once on its channel', async () => {
    const { subscribe, unsubscribe } = await import('node:diagnostics_channel');
    const clock = manualClock();
    const ring = await createKeyRing({ algorithm: 'HS256', clock });
    const schedule = createRotationSchedule(ring, { interval: '1d', clock });
    const published: unknown[] = [];
    const onRotate = (m: unknown) => published.push(m);
    subscribe('org:key-rotation:rotate', onRotate);
    const seen: string[] = [];
    schedule.on('schedule-rotate', (e) => seen.push(e.kid));
    clock.advance(DAY);
    try {
      expect(await schedule.run()).toBe('rotate');
    } finally {
      unsubscribe('org:key-rotation:rotate', onRotate);
    }
    expect(seen).toHaveLength(1);
    expect(published).toEqual([{ kid: seen[0], previousKid: expect.any(String) }]);
  });
});
