import {
  DeleteSecretCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { isAbortedError } from '@org/core';
import { createHealth } from '@org/health';
import { createSecrets, isSecretsError, isSecretValue, type SecretsEvents } from '@org/secrets';
import { awsProvider } from '@org/secrets/aws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { manualClock } from './fake-provider.js';
import { countingClient, motoAvailable, motoConnection, startMoto } from './moto.js';

describe.runIf(motoAvailable)('aws provider on moto', () => {
  let moto: Awaited<ReturnType<typeof startMoto>>;
  beforeAll(async () => {
    moto = await startMoto();
  });
  afterAll(async () => {
    await moto?.stop();
  });

  const client = (options: Partial<Parameters<typeof createSecrets>[0]> = {}) => {
    const counting = countingClient(moto.endpoint);
    const secrets = createSecrets({
      provider: awsProvider({ client: counting.client }),
      ...options,
    });
    return { secrets, count: counting.count, sdk: counting.client };
  };

  it('reads text, JSON fields and binary secrets', async () => {
    const text = await moto.secret('gemini-key-1');
    const json = await moto.secret(JSON.stringify({ username: 'app', password: 'pw-1' }));
    const bin = await moto.secret(new Uint8Array([0, 159, 146, 150, 255]));
    const { secrets, sdk } = client();
    expect((await secrets.get(text)).reveal()).toBe('gemini-key-1');
    expect((await secrets.get(json, { field: 'password' })).reveal()).toBe('pw-1');
    const b = await secrets.get(bin);
    expect(b.binary).toBe(true);
    expect([...b.revealBytes()]).toEqual([0, 159, 146, 150, 255]);
    await expect(secrets.get('no-such-secret')).rejects.toMatchObject({
      code: 'ERR_SECRETS_NOT_FOUND',
      secretName: 'no-such-secret',
    });
    await secrets.close();
    sdk.destroy(); // the app's client: close() left it open
  });

  it('a prefix maps app names to Secrets Manager names', async () => {
    const name = await moto.secret('prefixed', 'cineview');
    const { secrets } = client({ prefix: `cineview-${process.pid}-` });
    expect((await secrets.get(name.slice(`cineview-${process.pid}-`.length))).reveal()).toBe(
      'prefixed',
    );
    await secrets.close();
  });

  it('rotation: the next refresh sees the new version; AWSPREVIOUS stays readable', async () => {
    const name = await moto.secret('v1');
    const clock = manualClock();
    const { secrets, count } = client({ clock, ttl: '5m', refreshAhead: '1m' });
    const fetches: SecretsEvents['fetch'][] = [];
    secrets.on('fetch', (e) => fetches.push(e));
    const first = await secrets.get(name);
    expect(first.reveal()).toBe('v1');
    await moto.admin.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'v2' }));
    expect((await secrets.get(name)).reveal()).toBe('v1'); // cached
    clock.advance(4 * 60_000 + 1); // into the refresh-ahead window
    const refreshed = new Promise((resolve) => secrets.once('fetch', resolve));
    expect((await secrets.get(name)).reveal()).toBe('v1'); // served, refresh started
    await refreshed;
    const second = await secrets.get(name);
    expect(second.reveal()).toBe('v2');
    expect(second.versionId).not.toBe(first.versionId);
    expect(fetches.at(-1)).toMatchObject({ background: true, changed: true });
    expect((await secrets.get(name, { version: 'AWSPREVIOUS' })).reveal()).toBe('v1');
    expect((await secrets.get(name, { version: { versionId: first.versionId! } })).reveal()).toBe(
      'v1',
    );
    expect(count('GetSecretValueCommand')).toBe(4);
    // A custom stage moved by hand is read as any other.
    await moto.admin.send(
      new UpdateSecretVersionStageCommand({
        SecretId: name,
        VersionStage: 'CANARY',
        MoveToVersionId: first.versionId,
      }),
    );
    expect((await secrets.get(name, { version: 'CANARY' })).reveal()).toBe('v1');
    await secrets.close();
  });

  it('withSecret refetches a password rotated under the cache', async () => {
    const name = await moto.secret(JSON.stringify({ password: 'old' }));
    const { secrets } = client();
    await secrets.get(name, { field: 'password' });
    await moto.admin.send(
      new PutSecretValueCommand({
        SecretId: name,
        SecretString: JSON.stringify({ password: 'new' }),
      }),
    );
    const seen: string[] = [];
    const r = await secrets.withSecret(
      name,
      (pw) => {
        seen.push(pw.reveal());
        if (pw.reveal() !== 'new') throw Object.assign(new Error('denied'), { code: '28P01' });
        return 'ok';
      },
      { field: 'password' },
    );
    expect(r).toBe('ok');
    expect(seen).toEqual(['old', 'new']);
    await secrets.close();
  });

  it('delete: after expiry the secret is reported missing, not served stale', async () => {
    const name = await moto.secret('to-delete');
    const clock = manualClock();
    const { secrets } = client({ clock, ttl: '1m' });
    await secrets.get(name);
    await moto.admin.send(
      new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true }),
    );
    expect((await secrets.get(name)).reveal()).toBe('to-delete'); // still fresh in the cache
    clock.advance(60_001);
    const err = await secrets.get(name).catch((e: unknown) => e);
    expect(isSecretsError(err, 'ERR_SECRETS_NOT_FOUND')).toBe(true);
    await secrets.close();
  });

  it('a secret scheduled for deletion is missing too', async () => {
    const name = await moto.secret('soon-gone');
    const { secrets } = client();
    await moto.admin.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 7 }));
    await expect(secrets.get(name)).rejects.toMatchObject({ code: 'ERR_SECRETS_NOT_FOUND' });
    await secrets.close();
  });

  it('1,000 concurrent reads of a cold name make one GetSecretValue call', async () => {
    const name = await moto.secret('hot');
    const { secrets, count } = client();
    const values = await Promise.all(Array.from({ length: 1000 }, () => secrets.get(name)));
    expect(values.every((v) => v.reveal() === 'hot')).toBe(true);
    expect(count('GetSecretValueCommand')).toBe(1);
    await secrets.close();
  });

  it('preload reads in one BatchGetSecretValue call', async () => {
    const names = await Promise.all(['a', 'b', 'c'].map((v) => moto.secret(v)));
    const { secrets, count } = client();
    const r = await secrets.preload([...names, 'missing-one']);
    expect(r.loaded.sort()).toEqual([...names].sort());
    expect(r.missing).toEqual(['missing-one']);
    expect(count('BatchGetSecretValueCommand')).toBe(1);
    expect(count('GetSecretValueCommand')).toBe(1); // the missing one, confirmed
    for (const [i, n] of names.entries()) expect((await secrets.get(n)).reveal()).toBe('abc'[i]);
    expect(count('GetSecretValueCommand')).toBe(1);
    await secrets.close();
  });

  it('moto frozen, then killed: last good value served, health degraded, reads recover', async () => {
    const name = await moto.secret('good');
    const clock = manualClock();
    const { secrets, count } = client({
      clock,
      ttl: '1m',
      timeout: '300ms',
      backoff: '1s',
      maxStale: '1h',
    });
    const health = createHealth({ checks: { secrets: secrets.healthCheck }, cache: 0 });
    const events: string[] = [];
    for (const e of ['error', 'stale', 'recovered'] as const) secrets.on(e, () => events.push(e));
    expect((await secrets.get(name)).reveal()).toBe('good');
    expect((await health.full()).status).toBe('healthy');

    moto.server.pause(); // connections stay open, nothing answers: only the timeout ends a call
    try {
      clock.advance(60_001);
      const started = performance.now();
      expect((await secrets.get(name)).reveal()).toBe('good');
      const waited = performance.now() - started;
      expect(waited).toBeLessThan(1_000); // bounded by `timeout`
      expect(events).toEqual(['error', 'stale']);
      const report = await health.full();
      expect(report.status).toBe('degraded');
      expect(report.checks.secrets?.reason).toContain('ERR_TIMEOUT');
      // Within the backoff: served at once, no call.
      const calls = count('GetSecretValueCommand');
      expect((await secrets.get(name)).reveal()).toBe('good');
      expect(count('GetSecretValueCommand')).toBe(calls);
      // A cold name while moto is frozen: the caller's signal ends its wait at once.
      const ac = new AbortController();
      const cold = secrets.get(`${name}-cold`, { signal: ac.signal });
      setTimeout(() => ac.abort(), 50);
      const t0 = performance.now();
      expect(isAbortedError(await cold.catch((e: unknown) => e))).toBe(true);
      expect(performance.now() - t0).toBeLessThan(250);
      // Its shared call goes on to its own timeout; forget the name so health ignores it.
      secrets.invalidate(`${name}-cold`);
    } finally {
      moto.server.resume();
    }
    clock.advance(1_001);
    expect((await secrets.get(name)).reveal()).toBe('good'); // stale; refresh in the background
    await vi.waitFor(
      async () => {
        clock.advance(5_000);
        await secrets.get(name);
        expect(events).toContain('recovered');
      },
      { timeout: 5_000, interval: 50 },
    );
    expect((await health.full()).status).toBe('healthy');

    // Killed outright (connection refused), then back empty: the secret is made again.
    await moto.server.kill();
    clock.advance(60_001);
    expect((await secrets.get(name)).reveal()).toBe('good');
    expect((await health.full()).status).toBe('degraded');
    await moto.server.restart();
    await moto.admin.send(
      new (await import('@aws-sdk/client-secrets-manager')).CreateSecretCommand({
        Name: name,
        SecretString: 'good-again',
      }),
    );
    // Each read past the backoff starts one background refresh; the first that succeeds ends it.
    await vi.waitFor(
      async () => {
        clock.advance(5_000);
        expect((await secrets.get(name)).reveal()).toBe('good-again');
      },
      { timeout: 5_000, interval: 50 },
    );
    expect((await health.full()).status).toBe('healthy');
    await health.close();
    await secrets.close();
  });

  it('a provider it created is closed by close(); the SDK loads lazily', async () => {
    const name = await moto.secret('own');
    const secrets = createSecrets({
      provider: awsProvider({ clientConfig: motoConnection(moto.endpoint) }),
    });
    const v = await secrets.get(name);
    expect(v.reveal()).toBe('own');
    expect(isSecretValue(v)).toBe(true);
    await secrets.close();
    await secrets.close();
  });
});
