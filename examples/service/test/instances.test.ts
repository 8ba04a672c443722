import { randomBytes, randomUUID } from 'node:crypto';
import { freePort, serverAvailable } from '@org/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServiceConfigError } from '../src/env.js';
import { createService } from '../src/server.js';
import { countKeys, deleteKeys } from './support/redis-keys.js';
import {
  type ClusterInstance,
  type ClusterProcess,
  isRunning,
  spawnCluster,
} from './support/spawn-cluster.js';

// Three instances of the service behind the cluster script's proxy, on the shared Redis under a
// prefix of this run's own (so parallel files and other runs never meet), its keys deleted after.
const REDIS = 'redis://127.0.0.1:6379';
const PREFIX = `example-service-test-${randomUUID().slice(0, 8)}`;
const ADMIN = 'instances-test-admin-token';
const RESET_MS = 3_000; // BREAKER_RESET_TIMEOUT

describe('REDIS_URL without KEYRING_ENCRYPTION_KEY', () => {
  it('refuses to start, naming the variable, before it connects to anything', async () => {
    const names = ['REDIS_URL', 'KEYRING_ENCRYPTION_KEY', 'OTEL_SDK_DISABLED'] as const;
    const saved = names.map((n) => [n, process.env[n]] as const);
    // Port 1: nothing listens there, so a connection attempt would show as a delay or an error.
    process.env.REDIS_URL = 'redis://127.0.0.1:1';
    delete process.env.KEYRING_ENCRYPTION_KEY;
    process.env.OTEL_SDK_DISABLED = 'true';
    try {
      const started = performance.now();
      const err = await createService().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ServiceConfigError);
      expect(err).toMatchObject({
        code: 'ERR_SERVICE_CONFIG',
        variable: 'KEYRING_ENCRYPTION_KEY',
        message: expect.stringContaining('KEYRING_ENCRYPTION_KEY'),
      });
      expect(performance.now() - started).toBeLessThan(1_000);
    } finally {
      for (const [n, v] of saved) {
        if (v === undefined) delete process.env[n];
        else process.env[n] = v;
      }
    }
  });
});

describe('the cluster script without a Redis to talk to', () => {
  it('exits with code 1 at once, saying where it looked', async () => {
    const port = await freePort(); // free: nothing answers there
    const started = performance.now();
    const failed = await spawnCluster({ REDIS_URL: `redis://127.0.0.1:${port}` }).then(
      async (c) => {
        await c.kill();
        return undefined;
      },
      (e: unknown) => e as Error,
    );
    expect(failed?.message).toMatch(/exited \(code 1\) before it was ready/);
    expect(failed?.message).toContain(`nothing answers at 127.0.0.1:${port} (REDIS_URL)`);
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});

const redisUp = await serverAvailable('Redis', 6379);

type Json = Record<string, unknown>;

async function call(
  base: string,
  path: string,
  init: RequestInit = {},
): Promise<{ status: number; body: Json; instance: string | null; headers: Headers }> {
  const res = await fetch(`${base}${path}`, { ...init, signal: AbortSignal.timeout(5_000) });
  const text = await res.text();
  return {
    status: res.status,
    body: text ? (JSON.parse(text) as Json) : {},
    instance: res.headers.get('x-instance'),
    headers: res.headers,
  };
}
const post = (base: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  call(base, path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
const kidOf = (jwt: string) =>
  (JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString('utf8')) as { kid: string })
    .kid;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

describe.runIf(redisUp)('three instances, one state, through Redis', () => {
  let cluster: ClusterProcess;
  let all: readonly ClusterInstance[];

  beforeAll(async () => {
    cluster = await spawnCluster({
      REDIS_URL: REDIS,
      REDIS_PREFIX: PREFIX,
      KEYRING_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      ADMIN_TOKEN: ADMIN,
      UPSTREAM_FAIL_RATE: '0',
      BREAKER_RESET_TIMEOUT: String(RESET_MS),
      SHUTDOWN_DELAY: '0',
      DRAIN_TIMEOUT: '1000',
      CLOSER_TIMEOUT: '1000',
      OTEL_SDK_DISABLED: 'true',
    });
    all = cluster.instances;
  }, 60_000);

  afterAll(async () => {
    await cluster?.kill();
    await deleteKeys(REDIS, `${PREFIX}:*`);
  });

  it('starts three instances, each answering with its id and its state in Redis', async () => {
    expect(all.map((i) => i.id)).toEqual(['instance-1', 'instance-2', 'instance-3']);
    for (const i of all) {
      const { body, instance } = await call(i.base, '/status.json');
      expect(instance).toBe(i.id);
      expect(body.instance).toMatchObject({
        id: i.id,
        port: Number(new URL(i.base).port),
        state: 'redis',
        prefix: PREFIX,
      });
    }
    // Round robin: three requests through the proxy, three instances.
    const seen = new Set<string | null>();
    for (let n = 0; n < 3; n++) seen.add((await call(cluster.base, '/status.json')).instance);
    expect([...seen].sort()).toEqual(['instance-1', 'instance-2', 'instance-3']);
  });

  it('a rotation on one instance is seen by all three; old tokens still verify on each', async () => {
    const before = await post(cluster.base, '/auth/token', { sub: 'alice' });
    expect(before.status).toBe(200);
    const oldToken = before.body.access_token as string;
    const oldKid = kidOf(oldToken);
    const rotated = await post(all[1]!.base, '/auth/rotate', undefined, {
      authorization: `Bearer ${ADMIN}`,
    });
    expect(rotated.status).toBe(200);
    const newKid = rotated.body.active as string;
    expect(newKid).not.toBe(oldKid);
    const tokens: string[] = [];
    for (const i of all) {
      // Pub/sub brings the change within milliseconds; the poll only absorbs scheduling.
      await expect
        .poll(
          async () => {
            const { body } = await call(i.base, '/auth/keys');
            return (body.keys as { kid: string; status: string }[]).find(
              (k) => k.status === 'active',
            )?.kid;
          },
          { timeout: 2_000, interval: 20 },
        )
        .toBe(newKid);
      const signed = await post(i.base, '/auth/token', { sub: `user-of-${i.id}` });
      expect(kidOf(signed.body.access_token as string)).toBe(newKid);
      tokens.push(signed.body.access_token as string);
    }
    for (const i of all) {
      const old = await call(i.base, '/auth/me', {
        headers: { authorization: `Bearer ${oldToken}` },
      });
      expect(old).toMatchObject({ status: 200, body: { sub: 'alice', kid: oldKid } });
      // A token signed on any instance verifies on every other.
      for (const t of tokens) {
        const me = await call(i.base, '/auth/me', { headers: { authorization: `Bearer ${t}` } });
        expect(me).toMatchObject({ status: 200, body: { kid: newKid } });
      }
      const jwks = await call(i.base, '/.well-known/jwks.json');
      const kids = (jwks.body.keys as { kid: string }[]).map((k) => k.kid);
      expect(kids).toEqual(expect.arrayContaining([oldKid, newKid]));
    }
  });

  it('an invalidation through one instance drops the value from every instance', async () => {
    const id = `inv-${randomUUID().slice(0, 8)}`;
    const path = `/cache/contractor?id=${id}`;
    type Read = { source: string; loaderRuns: number; contractor: { loadedAt: string } };
    const read = async (base: string) => (await call(base, path)).body as unknown as Read;
    const first = await read(cluster.base);
    expect(first.source).toBe('loader');
    const loadedAt = first.contractor.loadedAt;
    // Every instance now holds it (from Redis, then in its own memory).
    for (const i of all) {
      for (let n = 0; n < 2; n++) {
        const r = await read(i.base);
        expect(r).toMatchObject({ source: 'cache', contractor: { loadedAt } });
      }
    }
    const runsBefore = await Promise.all(all.map(async (i) => (await read(i.base)).loaderRuns));
    const deleted = await call(cluster.base, path, { method: 'DELETE' });
    expect(deleted).toMatchObject({ status: 200, body: { deleted: true } });
    // Each instance reads it anew (none keeps its old copy); the first loads it again, once for
    // all three (the loader's lock in Redis), and the others read what it loaded.
    const after: Read[] = [];
    for (const i of all) {
      await expect
        .poll(async () => (await read(i.base)).contractor.loadedAt, {
          timeout: 1_000,
          interval: 20,
        })
        .not.toBe(loadedAt);
      after.push(await read(i.base));
    }
    expect(new Set(after.map((r) => r.contractor.loadedAt)).size).toBe(1);
    const runsAfter = after.map((r) => r.loaderRuns);
    expect(runsAfter.reduce((a, b) => a + b) - runsBefore.reduce((a, b) => a + b)).toBe(1);
  });

  it('a breaker opened on one instance is open on all three; one probe closes it for all', async () => {
    const [a, b, c] = all as [ClusterInstance, ClusterInstance, ClusterInstance];
    const breakerState = async (base: string) => {
      const { body } = await call(base, '/status.json');
      return (body.breakers as { name: string; state: string }[]).find(
        (x) => x.name === 'flaky-upstream',
      )?.state;
    };
    expect(await post(a.base, '/upstream/chaos?failRate=1')).toMatchObject({ status: 200 });
    // Three failures in a row open it (each call tries twice).
    let last: Json = {};
    for (let n = 0; n < 3 && last.breaker !== 'open'; n++)
      last = (await call(a.base, '/upstream')).body;
    const openedAt = Date.now();
    expect(last.breaker).toBe('open');
    for (const other of [b, c]) {
      await expect
        .poll(() => breakerState(other.base), { timeout: 1_000, interval: 20 })
        .toBe('open');
      const { body } = await call(other.base, '/upstream');
      // The fallback answers, and this instance's own (healthy) upstream was never called.
      expect(body).toMatchObject({
        result: { fallback: true, reason: 'breaker open' },
        breaker: 'open',
        upstreamCalls: 0,
      });
    }
    // Through the proxy, whichever instance answers: open, and the fallback.
    const through = await Promise.all([1, 2, 3].map(() => call(cluster.base, '/upstream')));
    expect(new Set(through.map((r) => r.instance)).size).toBe(3);
    for (const r of through) {
      expect(r.body).toMatchObject({ result: { reason: 'breaker open' }, breaker: 'open' });
    }
    expect(Date.now() - openedAt).toBeLessThan(RESET_MS); // all of that within the open period
    // Healed, and slow enough that the three calls below overlap the probe.
    await post(a.base, '/upstream/chaos?failRate=0');
    for (const i of all) await post(i.base, '/upstream/chaos?delayMs=300');
    const callsBefore = await Promise.all(
      all.map(async (i) => (await post(i.base, '/upstream/chaos')).body.upstreamCalls as number),
    );
    await sleep(openedAt + RESET_MS + 200 - Date.now());
    const answers = await Promise.all(all.map((i) => call(i.base, '/upstream')));
    const callsAfter = await Promise.all(
      all.map(async (i) => (await post(i.base, '/upstream/chaos')).body.upstreamCalls as number),
    );
    // One instance probed (its upstream called once); the other two answered with the fallback.
    const probes = answers.filter((r) => (r.body.result as Json).answer === 42);
    const refused = answers.filter((r) => (r.body.result as Json).reason === 'breaker open');
    expect(probes).toHaveLength(1);
    expect(refused).toHaveLength(2);
    expect(callsAfter.reduce((x, y) => x + y) - callsBefore.reduce((x, y) => x + y)).toBe(1);
    for (const i of all) {
      await expect
        .poll(() => breakerState(i.base), { timeout: 1_000, interval: 20 })
        .toBe('closed');
      await post(i.base, '/upstream/chaos?delayMs=0');
      const { body } = await call(i.base, '/upstream');
      expect(body).toMatchObject({ result: { answer: 42 }, breaker: 'closed' });
    }
  });

  it('counts a rate limit across the instances', async () => {
    // The demo tier: 5 an hour per client, wherever they land.
    const order = [0, 0, 1, 1, 2];
    for (const n of order) {
      const r = await call(all[n]!.base, '/rate-limit/quote');
      expect(r.status).toBe(200);
    }
    for (const base of [...all.map((i) => i.base), cluster.base]) {
      const r = await call(base, '/rate-limit/quote');
      expect(r.status).toBe(429);
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    }
  });

  it('detects a refresh token reused on another instance, and revokes its family', async () => {
    const [a, b, c] = all as [ClusterInstance, ClusterInstance, ClusterInstance];
    const issued = await post(a.base, '/auth/token', { sub: 'bob' });
    const first = issued.body.refresh_token as string;
    const rotated = await post(b.base, '/auth/refresh', { refresh_token: first });
    expect(rotated.status).toBe(200);
    const second = rotated.body.refresh_token as string;
    const replay = await post(c.base, '/auth/refresh', { refresh_token: first });
    expect(replay).toMatchObject({
      status: 401,
      body: { code: 'ERR_KEY_ROTATION_REFRESH_TOKEN_REUSED' },
    });
    const revoked = await post(a.base, '/auth/refresh', { refresh_token: second });
    expect(revoked).toMatchObject({
      status: 401,
      body: { code: 'ERR_KEY_ROTATION_REFRESH_TOKEN_REVOKED' },
    });
  });

  it('decrypts on one instance what another encrypted (one backup key for the run)', async () => {
    const plain = `pg_dump ${randomUUID()}\n`.repeat(100);
    const sealed = await fetch(`${all[0]!.base}/backup-crypto/encrypt`, {
      method: 'POST',
      body: plain,
      signal: AbortSignal.timeout(5_000),
    });
    const token = await sealed.text();
    for (const i of all.slice(1)) {
      const opened = await fetch(`${i.base}/backup-crypto/decrypt`, {
        method: 'POST',
        body: token,
        signal: AbortSignal.timeout(5_000),
      });
      expect(opened.status).toBe(200);
      expect(await opened.text()).toBe(plain);
    }
  });

  it('answers 502 at once for a killed instance, and keeps serving through the other two', async () => {
    const dead = all[2]!;
    process.kill(dead.pid, 'SIGKILL');
    await expect.poll(() => isRunning(dead.pid), { timeout: 5_000 }).toBe(false);
    const seen: (string | null)[] = [];
    for (let n = 0; n < 6; n++) {
      const started = performance.now();
      const r = await call(cluster.base, '/livez');
      const tookMs = performance.now() - started;
      if (r.status === 502) {
        expect(tookMs).toBeLessThan(500);
        expect(r.headers.get('x-proxy-target')).toBe(dead.id);
        expect(r.body.error).toContain(dead.id);
        seen.push(null);
      } else {
        expect(r.status).toBe(200);
        seen.push(r.instance);
      }
    }
    expect(seen.filter((s) => s === null)).toHaveLength(2);
    expect(new Set(seen.filter((s) => s !== null))).toEqual(new Set(['instance-1', 'instance-2']));
  });

  it('passes SIGTERM to the instances and exits when they have; the state was under its prefix', async () => {
    const living = all.slice(0, 2);
    cluster.child.kill('SIGTERM');
    const exit = await Promise.race([cluster.exited, sleep(15_000).then(() => 'hung' as const)]);
    expect(exit).not.toBe('hung');
    // instance-3 was killed: not a clean stop.
    expect(exit).toMatchObject({ code: 1 });
    for (const i of living) {
      expect(isRunning(i.pid)).toBe(false);
      expect(cluster.output()).toContain(`[cluster] ${i.id} exited (code 0)`);
    }
    expect(await countKeys(REDIS, `${PREFIX}:*`)).toBeGreaterThan(0);
    await deleteKeys(REDIS, `${PREFIX}:*`);
    expect(await countKeys(REDIS, `${PREFIX}:*`)).toBe(0);
  });
});
