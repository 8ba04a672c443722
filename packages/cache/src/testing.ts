import { randomUUID } from 'node:crypto';
import type { CacheDriver } from './driver.js';

/** What the suite asserts with: vitest's (or a compatible) `expect`. */
export interface ConformanceAssertion {
  toBe(expected: unknown): void;
  toEqual(expected: unknown): void;
  toBeUndefined(): void;
  readonly resolves: { toBeUndefined(): PromiseLike<void> | void };
}

/** A test's context: what the suite uses of it (vitest's `skip`). */
export interface ConformanceTestContext {
  /** Marks the test skipped: the driver lacks the optional member it checks. */
  skip(): void;
}

/**
 * The test functions the suite registers its tests with: pass vitest's own,
 * `{ describe, it, expect }`. Typed structurally, so this module imports no test runner.
 */
export interface ConformanceApi {
  describe(name: string, body: () => void): void;
  it(name: string, test: (ctx: ConformanceTestContext) => Promise<void>): void;
  expect(actual: unknown): ConformanceAssertion;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The one suite every `CacheDriver` must pass; the memory and Redis drivers pass it. `factory`
 * makes a fresh driver for each test (closed after it); each test works under its own random
 * key prefix, so a driver may share a server with other suites. Optional members the driver
 * lacks are skipped, not failed.
 *
 * @example
 * import { driverConformance } from '@org/cache/testing';
 * import { describe, expect, it } from 'vitest';
 * driverConformance('my driver', () => createMyDriver(), { describe, it, expect });
 */
export function driverConformance(
  name: string,
  factory: () => CacheDriver | Promise<CacheDriver>,
  api: ConformanceApi,
): void {
  const { describe, expect } = api;
  // Each test gets its own driver, closed when it ends, whatever the outcome.
  const it = (
    title: string,
    test: (d: CacheDriver, ctx: ConformanceTestContext) => Promise<void>,
  ) =>
    api.it(title, async (ctx) => {
      const d = await factory();
      try {
        await test(d, ctx);
      } finally {
        await d.close?.();
      }
    });
  describe(`CacheDriver conformance: ${name}`, () => {
    let p = '';
    const k = (s: string) => `${p}${s}`;
    const fresh = () => {
      p = `conf:${randomUUID()}:`;
    };

    it('has a name and answers a ping', async (d) => {
      fresh();
      expect(typeof d.name).toBe('string');
      if (d.ping) await expect(d.ping()).resolves.toBeUndefined();
    });

    it('gets what was set, and undefined for a missing key', async (d) => {
      fresh();
      await d.set(k('a'), 'alpha');
      expect(await d.get(k('a'))).toBe('alpha');
      expect(await d.get(k('missing'))).toBeUndefined();
      await d.set(k('a'), 'beta');
      expect(await d.get(k('a'))).toBe('beta');
    });

    it('answers many concurrent gets, present and missing, each with its own value', async (d) => {
      fresh();
      for (let i = 0; i < 30; i += 2) await d.set(k(`c${i}`), `v${i}`);
      const got = await Promise.all(Array.from({ length: 30 }, (_, i) => d.get(k(`c${i}`))));
      expect(got).toEqual(
        Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? `v${i}` : undefined)),
      );
    });

    it('stores the empty string as a value, not as a miss', async (d) => {
      fresh();
      await d.set(k('empty'), '');
      expect(await d.get(k('empty'))).toBe('');
    });

    it('keeps keys and values with any characters apart', async (d) => {
      fresh();
      const keys = ['a:b', 'a', 'a*', 'a?[x]\\', 'ключ 🔑', ' ', 'new\nline', 'a|b|c', '\u0000nul'];
      for (const [i, key] of keys.entries()) await d.set(k(key), `v${i}|${key}`);
      for (const [i, key] of keys.entries()) expect(await d.get(k(key))).toBe(`v${i}|${key}`);
    });

    it('round-trips a large value', async (d) => {
      fresh();
      const big = 'x'.repeat(512 * 1024) + 'é🙂';
      await d.set(k('big'), big);
      expect(await d.get(k('big'))).toBe(big);
    });

    it('expires a value after its ttl', async (d) => {
      fresh();
      await d.set(k('short'), 'v', { ttlMs: 60 });
      await d.set(k('long'), 'v', { ttlMs: 60_000 });
      expect(await d.get(k('short'))).toBe('v');
      await sleep(120);
      expect(await d.get(k('short'))).toBeUndefined();
      expect(await d.get(k('long'))).toBe('v');
    });

    it('deletes, reporting whether the key existed', async (d) => {
      fresh();
      await d.set(k('x'), '1');
      expect(await d.delete(k('x'))).toBe(true);
      expect(await d.get(k('x'))).toBeUndefined();
      expect(await d.delete(k('x'))).toBe(false);
    });

    it('clears only keys under the prefix, even a prefix with glob characters', async (d) => {
      fresh();
      const other = `conf:${randomUUID()}:`;
      await d.set(k('[a]*?:1'), '1');
      await d.set(k('2'), '2');
      await d.set(`${other}keep`, 'kept');
      await d.set(`${p.slice(0, -1)}X`, 'sibling');
      await d.clear(`${p}[a]*?:`);
      expect(await d.get(k('[a]*?:1'))).toBeUndefined();
      expect(await d.get(k('2'))).toBe('2');
      await d.clear(p);
      expect(await d.get(k('2'))).toBeUndefined();
      expect(await d.get(`${other}keep`)).toBe('kept');
      expect(await d.get(`${p.slice(0, -1)}X`)).toBe('sibling');
      await d.clear(other);
      await d.delete(`${p.slice(0, -1)}X`);
    });

    it('deletes by tag and returns the keys it deleted', async (d, ctx) => {
      if (!d.deleteByTag) return ctx.skip();
      fresh();
      await d.set(k('t1'), '1', { tags: [k('tag:a')], ttlMs: 10_000 });
      await d.set(k('t2'), '2', { tags: [k('tag:a'), k('tag:b')] });
      await d.set(k('t3'), '3', { tags: [k('tag:b')] });
      const deleted = await d.deleteByTag(k('tag:a'));
      expect(deleted.sort()).toEqual([k('t1'), k('t2')].sort());
      expect(await d.get(k('t1'))).toBeUndefined();
      expect(await d.get(k('t2'))).toBeUndefined();
      expect(await d.get(k('t3'))).toBe('3');
      expect(await d.deleteByTag(k('tag:a'))).toEqual([]);
      expect(await d.deleteByTag(k('tag:b'))).toEqual([k('t3')]);
    });

    it('locks with a token: one holder, release only by that token, expiry frees it', async (d, ctx) => {
      if (!d.lock || !d.unlock) return ctx.skip();
      fresh();
      expect(await d.lock(k('L'), 'one', 5_000)).toBe(true);
      expect(await d.lock(k('L'), 'two', 5_000)).toBe(false);
      expect(await d.unlock(k('L'), 'two')).toBe(false);
      expect(await d.lock(k('L'), 'two', 5_000)).toBe(false);
      expect(await d.unlock(k('L'), 'one')).toBe(true);
      expect(await d.lock(k('L'), 'two', 60)).toBe(true);
      await sleep(120);
      expect(await d.lock(k('L'), 'three', 5_000)).toBe(true);
      await d.unlock(k('L'), 'three');
    });

    it('getOrLock: the value when there is one, else the lock if it is free', async (d, ctx) => {
      if (!d.getOrLock || !d.unlock) return ctx.skip();
      fresh();
      await d.set(k('v'), 'there');
      expect(await d.getOrLock(k('v'), k('lv'), 'one', 5_000)).toEqual({
        value: 'there',
        locked: false,
      });
      // A hit takes no lock.
      expect(await d.unlock(k('lv'), 'one')).toBe(false);
      expect(await d.getOrLock(k('cold'), k('lc'), 'one', 5_000)).toEqual({
        value: undefined,
        locked: true,
      });
      expect(await d.getOrLock(k('cold'), k('lc'), 'two', 5_000)).toEqual({
        value: undefined,
        locked: false,
      });
      expect(await d.unlock(k('lc'), 'one')).toBe(true);
      // The empty string is a value, not a miss.
      await d.set(k('empty'), '');
      expect((await d.getOrLock(k('empty'), k('le'), 'one', 5_000)).value).toBe('');
    });

    it('commit: sets with ttl and tags, releases only its own lock, then publishes', async (d, ctx) => {
      if (!d.commit || !d.lock || !d.unlock) return ctx.skip();
      fresh();
      const got: string[] = [];
      const stop = d.subscribe
        ? await d.subscribe(k('chan'), {
            onMessage: (m) => got.push(m),
            onUp: () => {},
            onDown: () => {},
          })
        : undefined;
      expect(await d.lock(k('L'), 'mine', 5_000)).toBe(true);
      await d.commit(k('a'), 'A', {
        ttlMs: 10_000,
        tags: [k('tag')],
        unlock: { key: k('L'), token: 'mine' },
        publish: d.publish ? { channel: k('chan'), message: 'changed' } : undefined,
      });
      expect(await d.get(k('a'))).toBe('A');
      expect(await d.lock(k('L'), 'next', 5_000)).toBe(true);
      // Another holder's lock stays.
      await d.commit(k('b'), 'B', { unlock: { key: k('L'), token: 'mine' } });
      expect(await d.get(k('b'))).toBe('B');
      expect(await d.lock(k('L'), 'third', 5_000)).toBe(false);
      await d.unlock(k('L'), 'next');
      if (d.deleteByTag) expect(await d.deleteByTag(k('tag'))).toEqual([k('a')]);
      await d.commit(k('short'), 'S', { ttlMs: 50 });
      await sleep(120);
      expect(await d.get(k('short'))).toBeUndefined();
      if (stop) {
        for (let i = 0; i < 40 && got.length === 0; i++) await sleep(25);
        expect(got).toEqual(['changed']);
        await stop();
      }
    });

    it('delivers published messages to subscribers', async (d, ctx) => {
      if (!d.publish || !d.subscribe) return ctx.skip();
      fresh();
      const got: string[] = [];
      let up = 0;
      const stop = await d.subscribe(k('chan'), {
        onMessage: (m) => got.push(m),
        onUp: () => up++,
        onDown: () => {},
      });
      expect(up).toBe(1);
      await d.publish(k('chan'), 'hello');
      await d.publish(k('other'), 'not for us');
      for (let i = 0; i < 40 && got.length === 0; i++) await sleep(25);
      expect(got).toEqual(['hello']);
      await stop();
    });
  });
}
