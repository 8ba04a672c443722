import { inspect } from 'node:util';
import { isAbortedError, isTimeoutError } from '@org/core';
import { createSecrets, isSecretsError, SecretsErrorCode, type SecretsEvents } from '@org/secrets';
import { describe, expect, it } from 'vitest';
import { fakeProvider, manualClock } from './fake-provider.js';

const flush = () => new Promise((r) => setImmediate(r));

describe('createSecrets', () => {
  it('reads, caches for ttl, and wraps the value', async () => {
    const fake = fakeProvider({ 'app-key': 'k1' });
    const clock = manualClock();
    const secrets = createSecrets({ provider: fake.provider, prefix: 'app-', clock });
    const v = await secrets.get('key');
    expect(v.reveal()).toBe('k1');
    expect(String(v)).toBe('[secret]');
    expect(`${v}`).toBe('[secret]');
    expect(JSON.stringify({ v })).toBe('{"v":"[secret]"}');
    expect(inspect(v)).toBe('[secret]');
    expect((await secrets.get('app-key')).reveal()).toBe('k1');
    expect(fake.state.calls).toBe(1);
    clock.advance(5 * 60_000 + 1);
    fake.set('app-key', 'k2');
    expect((await secrets.get('key')).reveal()).toBe('k2');
    expect(fake.state.calls).toBe(2);
    await secrets.close();
  });

  it('makes one provider call for 1,000 concurrent reads of a cold name', async () => {
    const fake = fakeProvider({ db: 'pw' });
    let open!: () => void;
    fake.state.gate = new Promise((r) => {
      open = r;
    });
    const secrets = createSecrets({ provider: fake.provider });
    const reads = Array.from({ length: 1000 }, () => secrets.get('db'));
    await flush();
    open();
    const values = await Promise.all(reads);
    expect(values.every((v) => v.reveal() === 'pw')).toBe(true);
    expect(fake.state.calls).toBe(1);
    await secrets.close();
  });

  it('refreshes in the background before expiry and reports the rotation', async () => {
    const fake = fakeProvider({ db: 'old' });
    const clock = manualClock();
    const secrets = createSecrets({
      provider: fake.provider,
      clock,
      ttl: '10m',
      refreshAhead: '1m',
    });
    const fetches: SecretsEvents['fetch'][] = [];
    secrets.on('fetch', (e) => fetches.push(e));
    await secrets.get('db');
    fake.set('db', 'new');
    clock.advance(9 * 60_000 + 1);
    expect((await secrets.get('db')).reveal()).toBe('old'); // served from cache…
    await flush();
    expect((await secrets.get('db')).reveal()).toBe('new'); // …while the refresh ran
    expect(fetches.map((f) => [f.background, f.changed])).toEqual([
      [false, false],
      [true, true],
    ]);
    await secrets.close();
  });

  it('serves the last good value within maxStale, backs off, reports health, recovers', async () => {
    const fake = fakeProvider({ db: 'pw' });
    const clock = manualClock();
    const secrets = createSecrets({
      provider: fake.provider,
      clock,
      ttl: '1m',
      maxStale: '10m',
      backoff: '1s',
      maxBackoff: '8s',
    });
    const events: string[] = [];
    for (const e of ['error', 'stale', 'recovered'] as const) secrets.on(e, () => events.push(e));
    await secrets.get('db');
    expect((await secrets.healthCheck()).status).toBe('ok');
    fake.state.failing = true;
    clock.advance(60_001);
    expect((await secrets.get('db')).reveal()).toBe('pw'); // awaited the refresh, it failed
    expect(fake.state.calls).toBe(2);
    const h = await secrets.healthCheck();
    expect(h.status).toBe('warn');
    expect(h.details.stale).toEqual(['db']);
    expect(h.reason).toContain('ERR_SECRETS_UNAVAILABLE');
    // Within the backoff: served stale at once, no provider call.
    expect((await secrets.get('db')).reveal()).toBe('pw');
    expect(fake.state.calls).toBe(2);
    clock.advance(1_001);
    expect((await secrets.get('db')).reveal()).toBe('pw'); // stale, refresh in the background
    await flush();
    expect(fake.state.calls).toBe(3);
    fake.state.failing = false;
    clock.advance(2_001); // the second backoff is 2 s
    await secrets.get('db');
    await flush();
    expect(fake.state.calls).toBe(4);
    expect((await secrets.healthCheck()).status).toBe('ok');
    expect(events).toContain('recovered');
    expect(events.filter((e) => e === 'error')).toHaveLength(2);
    // Once per failed attempt, not once per read.
    expect(events.filter((e) => e === 'stale')).toHaveLength(2);
    await secrets.close();
  });

  it('stops serving stale past maxStale and the health check fails', async () => {
    const fake = fakeProvider({ db: 'pw' });
    const clock = manualClock();
    const secrets = createSecrets({ provider: fake.provider, clock, ttl: '1m', maxStale: '5m' });
    await secrets.get('db');
    fake.state.failing = true;
    clock.advance(60_000 + 5 * 60_000 + 1);
    const err = await secrets.get('db').catch((e: unknown) => e);
    expect(isSecretsError(err, SecretsErrorCode.Unavailable)).toBe(true);
    expect((err as Error).message).toContain('"db"');
    expect((await secrets.healthCheck()).status).toBe('fail');
    await secrets.close();
  });

  it('names a missing secret; optional only outside production', async () => {
    const fake = fakeProvider({});
    const dev = createSecrets({ provider: fake.provider });
    const err = await dev.get('cineview-gemini-api').catch((e: unknown) => e);
    expect(isSecretsError(err, SecretsErrorCode.NotFound)).toBe(true);
    expect((err as Error).message).toContain('cineview-gemini-api');
    expect(await dev.get('cineview-gemini-api', { optional: true })).toBeUndefined();
    const prod = createSecrets({ provider: fake.provider, production: true });
    await expect(prod.get('x', { optional: true })).rejects.toMatchObject({
      code: 'ERR_SECRETS_NOT_FOUND',
    });
    fake.set('empty', '');
    await expect(prod.get('empty')).rejects.toThrow(/"empty" is empty/);
  });

  it('reads JSON fields and binary secrets', async () => {
    const fake = fakeProvider({
      db: JSON.stringify({ username: 'app', password: 'pw', port: 5432 }),
      bin: new Uint8Array([0, 1, 2, 255]),
      text: 'not json',
    });
    const secrets = createSecrets({ provider: fake.provider });
    expect((await secrets.get('db', { field: 'password' })).reveal()).toBe('pw');
    expect((await secrets.get('db', { field: 'port' })).reveal()).toBe('5432');
    const bin = await secrets.get('bin');
    expect(bin.binary).toBe(true);
    expect([...bin.revealBytes()]).toEqual([0, 1, 2, 255]);
    const err = await secrets.get('text', { field: 'x' }).catch((e: unknown) => e);
    expect(isSecretsError(err, SecretsErrorCode.InvalidFormat)).toBe(true);
    expect(JSON.stringify(err)).not.toContain('not json');
    expect(inspect(err)).not.toContain('not json');
    await expect(secrets.get('db', { field: 'nope' })).rejects.toMatchObject({
      code: 'ERR_SECRETS_INVALID_FORMAT',
    });
    expect(fake.state.calls).toBe(3); // one per secret, fields parsed from the cache
  });

  it('withSecret refetches once after an auth error, and passes other errors through', async () => {
    const fake = fakeProvider({ db: 'old' });
    const secrets = createSecrets({ provider: fake.provider });
    await secrets.get('db');
    fake.set('db', 'new'); // rotated under the cached value
    const seen: string[] = [];
    const result = await secrets.withSecret('db', async (pw) => {
      seen.push(pw.reveal());
      if (pw.reveal() !== 'new') throw Object.assign(new Error('auth failed'), { code: '28P01' });
      return 'connected';
    });
    expect(result).toBe('connected');
    expect(seen).toEqual(['old', 'new']);
    const mine = new Error('boom');
    await expect(secrets.withSecret('db', () => Promise.reject(mine))).rejects.toBe(mine);
    // Only once: a second auth failure is the app's.
    const denied = Object.assign(new Error('401'), { status: 401 });
    let tries = 0;
    await expect(
      secrets.withSecret('db', () => {
        tries += 1;
        throw denied;
      }),
    ).rejects.toBe(denied);
    expect(tries).toBe(2);
  });

  it('bounds each provider call by timeout and the caller signal', async () => {
    const fake = fakeProvider({ db: 'pw' });
    fake.state.gate = new Promise(() => {});
    const secrets = createSecrets({ provider: fake.provider, timeout: 50 });
    const err = await secrets.get('db').catch((e: unknown) => e);
    expect(isTimeoutError(err)).toBe(true);
    const ac = new AbortController();
    const p = secrets.get('other', { signal: ac.signal });
    ac.abort();
    expect(isAbortedError(await p.catch((e: unknown) => e))).toBe(true);
    await secrets.close();
  });

  it('keeps the cache within maxEntries, least recently read out first', async () => {
    const fake = fakeProvider({ a: '1', b: '2', c: '3' });
    const secrets = createSecrets({ provider: fake.provider, maxEntries: 2 });
    const evicted: string[] = [];
    secrets.on('evict', (e) => evicted.push(e.name));
    await secrets.get('a');
    await secrets.get('b');
    await secrets.get('a');
    await secrets.get('c');
    expect(evicted).toEqual(['b']);
    await secrets.get('a');
    expect(fake.state.calls).toBe(3);
  });

  it('preloads in one batch call and names what is missing', async () => {
    const fake = fakeProvider({ a: '1', b: '2' });
    const secrets = createSecrets({ provider: fake.provider });
    expect(await secrets.preload(['a', 'b', 'c'])).toEqual({ loaded: ['a', 'b'], missing: ['c'] });
    expect(fake.state.batchCalls).toBe(1);
    expect(fake.state.calls).toBe(1); // c, to tell missing from failing
    await secrets.get('a');
    expect(fake.state.calls).toBe(1);
    const prod = createSecrets({ provider: fake.provider, production: true });
    await expect(prod.preload(['a', 'c', 'd'])).rejects.toThrow(/"c", "d"/);
  });

  it('preload falls back to one read per name when the batch call fails', async () => {
    const fake = fakeProvider({ a: '1', b: '2' });
    const provider = {
      ...fake.provider,
      getMany: () => Promise.reject(new Error('AccessDeniedException')),
    };
    const secrets = createSecrets({ provider });
    expect(await secrets.preload(['a', 'b'])).toEqual({ loaded: ['a', 'b'], missing: [] });
    expect(fake.state.calls).toBe(2);
    fake.state.failing = true;
    const err = await secrets.preload(['c']).catch((e: unknown) => e);
    expect(isSecretsError(err, SecretsErrorCode.Unavailable)).toBe(true);
  });

  it('close() releases: aborts calls in flight, closes the provider, is idempotent', async () => {
    const fake = fakeProvider({ a: '1' });
    fake.state.gate = new Promise(() => {});
    const secrets = createSecrets({ provider: fake.provider });
    const p = secrets.get('a');
    await secrets.close();
    await secrets.close();
    await expect(p).rejects.toMatchObject({ code: 'ERR_SECRETS_CLOSED' });
    await expect(secrets.get('a')).rejects.toMatchObject({ code: 'ERR_SECRETS_CLOSED' });
    expect(fake.state.closed).toBe(1);
  });

  it('aborting the client signal ends it', async () => {
    const fake = fakeProvider({ a: '1' });
    const ac = new AbortController();
    const secrets = createSecrets({ provider: fake.provider, signal: ac.signal });
    await secrets.get('a');
    ac.abort();
    expect(isAbortedError(await secrets.get('a').catch((e: unknown) => e))).toBe(true);
  });

  it('rejects bad options with ERR_SECRETS_INVALID_OPTION naming them', () => {
    const { provider } = fakeProvider();
    const bad = [
      {},
      { provider, ttl: '5' },
      { provider, ttl: -1 },
      { provider, maxEntries: 0 },
      { provider, timeout: 'soon' },
      { provider, production: 'yes' },
    ];
    for (const options of bad) {
      let err: unknown;
      try {
        createSecrets(options as never);
      } catch (e) {
        err = e;
      }
      expect(isSecretsError(err, SecretsErrorCode.InvalidOption)).toBe(true);
    }
    expect(() => createSecrets({ provider, ttl: '5' as never })).toThrow(/`ttl`/);
  });
});
