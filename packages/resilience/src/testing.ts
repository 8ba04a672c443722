/**
 * The suite every `BreakerStateStore` must pass: the memory and Redis stores pass it, and a
 * store of your own proves itself in three lines. It imports no test runner: pass vitest's
 * `{ describe, it, expect }`.
 */
import { randomUUID } from 'node:crypto';
import type { BreakerStateStore, SharedStateEvent } from './shared-state.js';

/** What the suite asserts with: vitest's (or a compatible) `expect`. */
export interface ConformanceAssertion {
  toBe(expected: unknown): void;
  toEqual(expected: unknown): void;
  toBeUndefined(): void;
  readonly not: { toBe(expected: unknown): void };
}

/**
 * The test functions the suite registers its tests with: pass vitest's own,
 * `{ describe, it, expect }`. Typed structurally, so this module imports no test runner.
 */
export interface ConformanceApi {
  describe(name: string, body: () => void): void;
  it(name: string, test: () => Promise<void>): void;
  expect(actual: unknown): ConformanceAssertion;
}

/**
 * Opens one instance of a store on the shared state named `space`: stores opened with the same
 * `space` share state (as instances of one app on one Redis), stores of different spaces share
 * nothing. Each test uses a fresh space; the suite closes every store it opened.
 */
export type StateStoreFactory = (space: string) => BreakerStateStore | Promise<BreakerStateStore>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it stops throwing, for at most `ms`: events travel asynchronously. */
async function eventually(check: () => void | Promise<void>, ms = 2_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > until) throw err;
      await sleep(10);
    }
  }
}

/**
 * Registers the `BreakerStateStore` conformance tests for the store `factory` opens.
 *
 * @example
 * import { stateStoreConformance } from '@org/resilience/testing';
 * import { describe, expect, it } from 'vitest';
 * stateStoreConformance('my store', (space) => createMyStore({ prefix: space }), { describe, it, expect });
 */
export function stateStoreConformance(
  name: string,
  factory: StateStoreFactory,
  api: ConformanceApi,
): void {
  const { describe, expect } = api;
  // Each test gets its own space and closes what it opened, whatever the outcome.
  const it = (
    title: string,
    test: (open: () => Promise<BreakerStateStore>, breaker: string) => Promise<void>,
  ) =>
    api.it(title, async () => {
      const space = `conformance:${randomUUID()}`;
      const opened: BreakerStateStore[] = [];
      const open = async () => {
        const store = await factory(space);
        opened.push(store);
        return store;
      };
      try {
        await test(open, `breaker-${randomUUID()}`);
      } finally {
        await Promise.allSettled(opened.map(async (s) => s.close?.()));
      }
    });

  describe(`BreakerStateStore conformance: ${name}`, () => {
    it('each instance has its own non-empty instanceId', async (open) => {
      const [a, b] = [await open(), await open()];
      expect(typeof a.instanceId === 'string' && a.instanceId.length > 0).toBe(true);
      expect(a.instanceId).not.toBe(b.instanceId);
    });

    it('an open published by one instance reaches the others, as plain data', async (open, n) => {
      const [a, b] = [await open(), await open()];
      const seen: SharedStateEvent[] = [];
      b.subscribe(n, (e) => seen.push(e));
      const event: SharedStateEvent = {
        state: 'open',
        openUntil: Date.now() + 5_000,
        trips: 2,
        origin: a.instanceId,
      };
      await a.publish(n, event);
      await eventually(() => expect(seen).toEqual([event]));
      await a.publish(n, { state: 'closed', origin: a.instanceId });
      await eventually(() =>
        expect(seen).toEqual([event, { state: 'closed', origin: a.instanceId }]),
      );
    });

    it('listeners hear only their breaker, and not after unsubscribing', async (open, n) => {
      const [a, b] = [await open(), await open()];
      const mine: SharedStateEvent[] = [];
      const other: SharedStateEvent[] = [];
      const off = b.subscribe(n, (e) => mine.push(e));
      b.subscribe(`${n}-other`, (e) => other.push(e));
      await a.publish(n, { state: 'closed', origin: a.instanceId });
      await eventually(() => expect(mine.length).toBe(1));
      off();
      off();
      await a.publish(n, { state: 'closed', origin: a.instanceId });
      // A marker on another breaker, published after: once it arrives, so would have the first.
      await a.publish(`${n}-other`, { state: 'closed', origin: a.instanceId });
      await eventually(() => expect(other.length).toBe(1));
      expect(mine.length).toBe(1);
    });

    it('load returns an open period in force, and nothing once it is closed', async (open, n) => {
      const [a, b] = [await open(), await open()];
      if (!b.load) return;
      expect(await b.load(n)).toBeUndefined();
      const event: SharedStateEvent = {
        state: 'open',
        openUntil: Date.now() + 5_000,
        trips: 1,
        origin: a.instanceId,
      };
      await a.publish(n, event);
      expect(await b.load(n)).toEqual(event);
      await a.publish(n, { state: 'closed', origin: a.instanceId });
      expect(await b.load(n)).toBeUndefined();
    });

    it('an open period is forgotten once it has passed', async (open, n) => {
      const [a, b] = [await open(), await open()];
      if (!b.load) return;
      await a.publish(n, {
        state: 'open',
        openUntil: Date.now() + 100,
        trips: 1,
        origin: a.instanceId,
      });
      await sleep(200);
      expect(await b.load(n)).toBeUndefined();
    });

    it('one instance at a time holds the probe right, and only its holder gives it back', async (open, n) => {
      const [a, b, c] = [await open(), await open(), await open()];
      expect(await a.acquireProbe(n, 5_000)).toBe(true);
      expect(await b.acquireProbe(n, 5_000)).toBe(false);
      expect(await a.acquireProbe(n, 5_000)).toBe(false);
      expect(await c.acquireProbe(`${n}-other`, 5_000)).toBe(true);
      if (!a.releaseProbe || !b.releaseProbe) return;
      await b.releaseProbe(n);
      expect(await c.acquireProbe(n, 5_000)).toBe(false);
      await a.releaseProbe(n);
      expect(await c.acquireProbe(n, 5_000)).toBe(true);
    });

    it('a probe right lapses after its ttl, so a crashed prober frees it', async (open, n) => {
      const [a, b] = [await open(), await open()];
      expect(await a.acquireProbe(n, 100)).toBe(true);
      expect(await b.acquireProbe(n, 100)).toBe(false);
      await sleep(200);
      expect(await b.acquireProbe(n, 100)).toBe(true);
    });

    it('close() is idempotent and stops delivery to its listeners', async (open, n) => {
      const [a, b] = [await open(), await open()];
      const seen: SharedStateEvent[] = [];
      b.subscribe(n, (e) => seen.push(e));
      await b.close?.();
      await b.close?.();
      const marker: SharedStateEvent[] = [];
      a.subscribe(n, (e) => marker.push(e));
      await a.publish(n, { state: 'closed', origin: a.instanceId });
      await eventually(() => expect(marker.length).toBe(1));
      expect(seen.length).toBe(0);
    });
  });
}
