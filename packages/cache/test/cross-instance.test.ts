import { type Cache, createCache } from '@org/cache';
import { serverAvailable } from '@org/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { REDIS_URL, rawClient, uniqueNamespace, within } from './support/redis.js';

describe.runIf(await serverAvailable('Redis', 6379))('two instances on one Redis', () => {
  let open: Cache[] = [];
  afterEach(async () => {
    await Promise.all(open.map((c) => c.close()));
    open = [];
  });
  const pair = async (label: string, extra: Parameters<typeof createCache>[0] = {}) => {
    const namespace = uniqueNamespace(label);
    const a = createCache({ redis: REDIS_URL, namespace, ...extra });
    const b = createCache({ redis: REDIS_URL, namespace, ...extra });
    open.push(a, b);
    expect(await a.ready()).toBe(true);
    expect(await b.ready()).toBe(true);
    return [a, b] as const;
  };

  it('a set on one instance replaces the L1 copy of the other within 1 s', async () => {
    const [a, b] = await pair('set');
    await a.set('k', 'v1');
    expect(await b.get('k')).toBe('v1');
    // Once a's own invalidation message has passed, b serves its L1 copy.
    let tier = '';
    b.on('hit', (e) => {
      tier = e.tier;
    });
    await within(1_000, async () => (await b.get('k')) === 'v1' && tier === 'l1');
    await a.set('k', 'v2');
    const took = await within(1_000, async () => (await b.get('k')) === 'v2');
    expect(took).toBeLessThan(1_000);
    console.info(`[cross-instance] set on a seen by b after ${took.toFixed(1)} ms`);
  });

  it('delete, deleteByTag and clear on one instance reach the other within 1 s', async () => {
    const [a, b] = await pair('del');
    await a.set('d', 1);
    await a.set('t1', 1, { tags: ['contractor:7'] });
    await a.set('t2', 2, { tags: ['contractor:7'] });
    await a.set('c', 3);
    for (const k of ['d', 't1', 't2', 'c']) expect(await b.get(k)).toBeDefined();
    await a.delete('d');
    await within(1_000, async () => (await b.get('d')) === undefined);
    await a.deleteByTag('contractor:7');
    await within(
      1_000,
      async () => (await b.get('t1')) === undefined && (await b.get('t2')) === undefined,
    );
    expect(await b.get('c')).toBe(3);
    await b.clear();
    await within(1_000, async () => (await a.get('c')) === undefined);
  });

  it('concurrent getOrSet on both instances runs the loader once across them', async () => {
    const [a, b] = await pair('stampede');
    let runs = 0;
    const loader = async () => {
      runs++;
      await new Promise((r) => setTimeout(r, 200));
      return { price: 42 };
    };
    const calls = [];
    for (let i = 0; i < 20; i++) calls.push((i % 2 ? a : b).getOrSet('quote', loader));
    const results = await Promise.all(calls);
    expect(runs).toBe(1);
    expect(results.every((r) => r.price === 42)).toBe(true);
  });

  it('crossInstanceLock: false loads once per instance, and takes no lock in Redis', async () => {
    const [a, b] = await pair('nolock', { crossInstanceLock: false });
    const raw = rawClient();
    try {
      let runs = 0;
      let lockSeen = false;
      const loader = async () => {
        runs++;
        const locks = await raw.keys(`${encodeURIComponent(a.namespace)}:l:*`);
        if (locks.length > 0) lockSeen = true;
        await new Promise((r) => setTimeout(r, 100));
        return { price: 42 };
      };
      const calls = [];
      for (let i = 0; i < 20; i++) calls.push((i % 2 ? a : b).getOrSet('quote', loader));
      const results = await Promise.all(calls);
      expect(runs).toBe(2);
      expect(lockSeen).toBe(false);
      expect(results.every((r) => r.price === 42)).toBe(true);
      expect(await a.getOrSet('quote', loader)).toEqual({ price: 42 });
      expect(runs).toBe(2);
    } finally {
      raw.disconnect();
    }
  });

  it('when the lock holder fails, a waiter on the other instance takes over', async () => {
    const [a, b] = await pair('takeover');
    let runs = 0;
    const failing = async () => {
      runs++;
      await new Promise((r) => setTimeout(r, 100));
      throw new Error('holder failed');
    };
    const working = async () => {
      runs++;
      return 'from b';
    };
    const first = a.getOrSet('k', failing).catch((e: Error) => e.message);
    await new Promise((r) => setTimeout(r, 20));
    const second = b.getOrSet('k', working);
    expect(await first).toBe('holder failed');
    expect(await second).toBe('from b');
    expect(runs).toBe(2);
  });

  it('a waiter whose lock holder hangs loads on its own after timeouts.lockWait', async () => {
    const [a, b] = await pair('lockwait', { timeouts: { lock: 5_000, lockWait: 300 } });
    const hung = a.getOrSet(
      'k',
      () => new Promise<string>((r) => setTimeout(() => r('late'), 800)),
    );
    await new Promise((r) => setTimeout(r, 20));
    const t0 = performance.now();
    expect(await b.getOrSet('k', () => 'b loaded')).toBe('b loaded');
    const waited = performance.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(250);
    expect(waited).toBeLessThan(1_000);
    expect(await hung).toBe('late');
  });

  it('early refresh runs once across instances, in the background', async () => {
    const [a, b] = await pair('early', { jitter: 0, earlyRefresh: 0.5 });
    let runs = 0;
    const loader = async () => {
      runs++;
      await new Promise((r) => setTimeout(r, 300));
      return `v${runs}`;
    };
    expect(await a.getOrSet('k', loader, { ttl: '2s' })).toBe('v1');
    expect(await b.getOrSet('k', loader, { ttl: '2s' })).toBe('v1');
    await new Promise((r) => setTimeout(r, 1_100));
    // Both hit in the refresh window: both answer at once with the current value.
    const t0 = performance.now();
    const answers = await Promise.all([
      a.getOrSet('k', loader, { ttl: '2s' }),
      b.getOrSet('k', loader, { ttl: '2s' }),
    ]);
    expect(performance.now() - t0).toBeLessThan(250);
    expect(answers).toEqual(['v1', 'v1']);
    await within(3_000, async () => (await a.get('k')) === 'v2' && (await b.get('k')) === 'v2');
    expect(runs).toBe(2);
  });

  it('namespace views: invalidation and clear reach the same view on the other instance', async () => {
    const [a, b] = await pair('views');
    const [ua, ub] = [a.withNamespace('users'), b.withNamespace('users')];
    await a.set('1', 'root');
    await ua.set('1', 'u1');
    expect(await ub.get('1')).toBe('u1');
    expect(await b.get('1')).toBe('root');
    await ua.set('1', 'u2');
    await within(1_000, async () => (await ub.get('1')) === 'u2');
    await ub.clear();
    await within(1_000, async () => (await ua.get('1')) === undefined);
    expect(await a.get('1')).toBe('root');
  });

  it('with a stale value, a soft timeout also bounds the wait for the other instance', async () => {
    const [a, b] = await pair('soft-wait', { jitter: 0, grace: '60s' });
    await a.set('k', 'old', { ttl: 100 });
    expect(await b.get('k')).toBe('old');
    await new Promise((r) => setTimeout(r, 150));
    const slow = () => new Promise<string>((r) => setTimeout(() => r('new'), 400));
    const refreshing = a.getOrSet('k', slow, { ttl: '60s' });
    await new Promise((r) => setTimeout(r, 30));
    const t0 = performance.now();
    const fromB = await b.getOrSet('k', () => 'b should not load', {
      ttl: '60s',
      timeouts: { soft: 50 },
    });
    expect(fromB).toBe('old');
    expect(performance.now() - t0).toBeLessThan(300);
    expect(await refreshing).toBe('new');
    await within(2_000, async () => (await b.get('k')) === 'new');
  });

  /** The messages on `namespace`'s invalidation channel, parsed, as a raw subscriber sees them. */
  const listen = async (namespace: string) => {
    const sub = rawClient();
    const seen: { at: number; keys: string[]; values: (string | null)[] }[] = [];
    const reader = rawClient();
    sub.on('message', (_ch: string, text: string) => {
      const keys = (JSON.parse(text.slice(text.indexOf('{'))) as { k?: string[] }).k ?? [];
      const entry = { at: performance.now(), keys, values: [] as (string | null)[] };
      seen.push(entry);
      // What Redis holds once the message is out: the written values, never the old ones.
      void reader.mget(keys).then((v) => entry.values.push(...v));
    });
    await sub.subscribe(`org-cache:${encodeURIComponent(namespace)}:`);
    return {
      seen,
      stop: () => {
        sub.disconnect();
        reader.disconnect();
      },
    };
  };
  it('writes within invalidationWindow share one message, sent after they reached Redis', async () => {
    const [a, b] = await pair('window', { invalidationWindow: 200 });
    const ns = a.namespace;
    for (const k of ['w1', 'w2', 'w3']) await a.set(k, 'old');
    for (const k of ['w1', 'w2', 'w3']) expect(await b.get(k)).toBe('old');
    // Two windows: the message of the writes above has gone out, and a window passed since.
    await new Promise((r) => setTimeout(r, 450));
    const bus = await listen(ns);
    try {
      const t0 = performance.now();
      // After a quiet window, the first write sends its message with the write; the two that
      // follow within the window share one message when it closes.
      await Promise.all([a.set('w1', 'new'), a.set('w2', 'new')]);
      await a.set('w3', 'new');
      await within(1_000, () => bus.seen.length === 2 && bus.seen[1]!.values.length === 2);
      await new Promise((r) => setTimeout(r, 300));
      expect(bus.seen).toHaveLength(2);
      expect(bus.seen[0]!.keys).toEqual([`${ns}:v:w1`]);
      expect(bus.seen[0]!.at - t0).toBeLessThan(150);
      expect(bus.seen[1]!.keys.sort()).toEqual([`${ns}:v:w2`, `${ns}:v:w3`]);
      expect(bus.seen[1]!.at - t0).toBeGreaterThanOrEqual(150);
      expect(
        [...bus.seen[0]!.values, ...bus.seen[1]!.values].every((v) => v?.endsWith('"new"')),
      ).toBe(true);
      for (const k of ['w1', 'w2', 'w3']) expect(await b.get(k)).toBe('new');
    } finally {
      bus.stop();
    }
  });

  it('invalidationWindow 0 publishes one message per write, with the write', async () => {
    const [a, b] = await pair('window0', { invalidationWindow: 0 });
    const ns = a.namespace;
    await a.set('k', 'old');
    expect(await b.get('k')).toBe('old');
    await new Promise((r) => setTimeout(r, 100));
    const bus = await listen(ns);
    try {
      await a.set('k', 'v1');
      await a.set('k', 'v2');
      await within(1_000, () => bus.seen.length === 2);
      expect(bus.seen.map((m) => m.keys)).toEqual([[`${ns}:v:k`], [`${ns}:v:k`]]);
      await within(1_000, async () => (await b.get('k')) === 'v2');
    } finally {
      bus.stop();
    }
  });

  it('close() sends the invalidations still waiting for their window', async () => {
    const namespace = uniqueNamespace('window-close');
    const a = createCache({ redis: REDIS_URL, namespace, invalidationWindow: '1s' });
    open.push(a);
    expect(await a.ready()).toBe(true);
    const bus = await listen(namespace);
    try {
      await a.set('first', 1); // sends its message with the write
      await a.set('k', 1); // waits for the window
      await within(500, () => bus.seen.length === 1);
      const t0 = performance.now();
      await a.close();
      await within(500, () => bus.seen.length === 2);
      expect(performance.now() - t0).toBeLessThan(500);
      expect(bus.seen.map((m) => m.keys)).toEqual([
        [`${encodeURIComponent(namespace)}:v:first`],
        [`${encodeURIComponent(namespace)}:v:k`],
      ]);
    } finally {
      bus.stop();
    }
  });
});
