import {
  createKeyRing,
  createMemoryKeyStore,
  createRotationSchedule,
  type KeyStore,
  type RingState,
} from '@org/key-rotation';
import { afterEach, describe, expect, it } from 'vitest';
import { encryptionKey, hmacToken, manualClock } from './helpers.js';

const DAY = 86_400_000;

/**
 * A memory store whose calls can be made to hang: while `hang` names a call, that call waits
 * until `release()`, then does what it was asked (a write the store accepts late).
 */
function hangingStore() {
  const inner = createMemoryKeyStore();
  let gate: Promise<void> | undefined;
  let open: (() => void) | undefined;
  const calls: string[] = [];
  const control = {
    hang: new Set<'load' | 'compareAndSet' | 'version'>(),
    calls,
    release() {
      control.hang.clear();
      open?.();
      gate = undefined;
    },
  };
  const wait = async (name: 'load' | 'compareAndSet' | 'version') => {
    calls.push(name);
    if (!control.hang.has(name)) return;
    gate ??= new Promise<void>((resolve) => {
      open = resolve;
    });
    await gate;
  };
  const store: KeyStore = {
    async load() {
      await wait('load');
      return inner.load();
    },
    async compareAndSet(expected: number, next: RingState) {
      await wait('compareAndSet');
      return inner.compareAndSet(expected, next);
    },
    async version() {
      await wait('version');
      return inner.version!();
    },
    subscribe: (listener) => inner.subscribe!(listener),
  };
  return { store, control };
}

/** Timers alive in this process (the store-call bounds are plain, non-unref'd timeouts). */
const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

/** Resolves with what `promise` rejects with and how long it took after `abort()`. */
async function abortAndTime(promise: Promise<unknown>, abort: () => void) {
  // Let the call reach the hung store call first.
  await new Promise((r) => setTimeout(r, 20));
  const start = performance.now();
  abort();
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  return { error, ms: performance.now() - start };
}

let release: (() => void) | undefined;
afterEach(() => {
  release?.();
  release = undefined;
});

async function setup() {
  const clock = manualClock();
  const { store, control } = hangingStore();
  release = control.release;
  const ring = await createKeyRing({
    algorithm: 'HS256',
    clock,
    store,
    encryptionKey,
    refreshInterval: 0,
    storeTimeout: '5s',
  });
  const schedule = createRotationSchedule(ring, { interval: '7d', clock });
  return { clock, store, control, ring, schedule };
}

describe('RotationSchedule.run({ signal })', () => {
  it('an abort mid-rotation against a hung store rejects at once; the ring stays consistent', async () => {
    const { clock, control, ring, schedule } = await setup();
    const before = ring.keys();
    clock.advance(7 * DAY);
    const idle = timers();
    control.hang.add('compareAndSet');
    const controller = new AbortController();
    const reason = new Error('shutting down');
    const { error, ms } = await abortAndTime(schedule.run({ signal: controller.signal }), () =>
      controller.abort(reason),
    );
    expect(error).toMatchObject({ name: 'AbortedError', code: 'ERR_ABORTED', cause: reason });
    expect(ms).toBeLessThan(1000); // not the 5 s storeTimeout
    expect(control.calls).toContain('compareAndSet');
    // No store-call timer outlives the abort.
    expect(timers()).toBe(idle);
    // This instance's view is what it was: nothing half-applied.
    expect(ring.keys()).toEqual(before);
    expect(await ring.verify(await ring.sign({ sub: 'u' }))).toBeTruthy();

    // The store accepts the write it was sent late: the next refresh finds one rotation.
    control.release();
    const statuses = async () => {
      await ring.refresh();
      return ring
        .keys()
        .map((k) => k.status)
        .sort();
    };
    await expect.poll(statuses).toEqual(['active', 'verify-only']);
    expect(ring.keys().find((k) => k.status === 'verify-only')!.kid).toBe(before[0]!.kid);
    expect(schedule.due()).toBeUndefined();
    expect(await ring.verify(await ring.sign({ sub: 'u' }))).toBeTruthy();
    await ring.close();
  });

  it('an abort while the run re-reads a hung store rejects at once and leaves no timer', async () => {
    const { clock, control, ring, schedule } = await setup();
    clock.advance(7 * DAY);
    const idle = timers();
    control.hang.add('version');
    const controller = new AbortController();
    const { error, ms } = await abortAndTime(schedule.run({ signal: controller.signal }), () =>
      controller.abort(),
    );
    expect(error).toMatchObject({ code: 'ERR_ABORTED' });
    expect(ms).toBeLessThan(1000);
    // The shared read no caller waits for any more has stopped too: its 5 s bound is gone.
    expect(timers()).toBe(idle);
    control.release();
    // Nothing was written: a later run still rotates, once.
    expect(await schedule.run()).toBe('rotate');
    expect(await schedule.run()).toBeUndefined();
    await ring.close();
  });

  it('a read shared with a caller that did not abort goes on for that caller', async () => {
    const { control, ring } = await setup();
    control.hang.add('version');
    const controller = new AbortController();
    const patient = ring.refresh();
    const hasty = ring.refresh({ signal: controller.signal });
    await new Promise((r) => setTimeout(r, 20));
    controller.abort();
    await expect(hasty).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    control.release();
    await expect(patient).resolves.toBeUndefined();
    await ring.close();
  });

  it('an already aborted signal rejects before any store call', async () => {
    const { clock, control, ring, schedule } = await setup();
    clock.advance(7 * DAY);
    const n = control.calls.length;
    const reason = new Error('gone');
    await expect(schedule.run({ signal: AbortSignal.abort(reason) })).rejects.toMatchObject({
      code: 'ERR_ABORTED',
      cause: reason,
    });
    expect(control.calls.length).toBe(n);
    await ring.close();
  });

  it('refuses a signal that is not an AbortSignal', async () => {
    const { ring, schedule } = await setup();
    const bad = { signal: 'soon' } as unknown as { signal: AbortSignal };
    await expect(schedule.run(bad)).rejects.toMatchObject({
      code: 'ERR_KEY_ROTATION_INVALID_OPTION',
      message: expect.stringMatching(/signal/),
    });
    await ring.close();
  });

  it('close() ends a run its timer started on a hung store at once, without a schedule-error', async () => {
    const { clock, control, ring } = await setup();
    const schedule = createRotationSchedule(ring, { interval: '7d', checkInterval: '10ms', clock });
    const errors: Error[] = [];
    schedule.on('schedule-error', (e) => errors.push(e.error));
    clock.advance(7 * DAY);
    control.hang.add('compareAndSet');
    schedule.start();
    await expect.poll(() => control.calls.includes('compareAndSet')).toBe(true);
    const start = performance.now();
    await schedule.close();
    expect(performance.now() - start).toBeLessThan(1000);
    expect(errors).toEqual([]);
    await ring.close();
  });
});

describe('KeyRing.verify({ signal })', () => {
  it('an abort ends the re-read for an unknown kid at once', async () => {
    const { control, ring } = await setup();
    const token = hmacToken(
      { alg: 'HS256', kid: 'not-in-the-ring' },
      { exp: 4_000_000_000 },
      'secret',
    );
    control.hang.add('version');
    const controller = new AbortController();
    const { error, ms } = await abortAndTime(
      ring.verify(token, { signal: controller.signal }),
      () => controller.abort(),
    );
    expect(error).toMatchObject({ code: 'ERR_ABORTED' });
    expect(ms).toBeLessThan(1000);
    await ring.close();
  });
});
