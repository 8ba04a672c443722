import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, type Started, startApp } from './start-app.js';

// With REDIS_URL (and KEYRING_ENCRYPTION_KEY) set, two instances of the app share the cache,
// the rate limits and the key ring, with no change to the code. The test runs a redis-server of
// its own, so the machine's Redis keeps none of its keys.
const dir = resolve(import.meta.dirname, '..');
const hasRedis = (() => {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!hasRedis && process.env.CI === 'true') {
  throw new Error('redis-server is not on the PATH; CI needs it');
}
if (!hasRedis) console.warn('redis.test.ts skipped: redis-server is not on the PATH');

const root = mkdtempSync(join(tmpdir(), 'example-fastify-redis-'));
let redis: ReturnType<typeof spawn> | undefined;
let a: Started;
let b: Started;

beforeAll(async () => {
  if (!hasRedis) return;
  const port = await freePort();
  redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', ''], {
    stdio: 'ignore',
  });
  await waitForPort(port);
  const start = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).scripts.start;
  const env = {
    REDIS_URL: `redis://127.0.0.1:${port}`,
    KEYRING_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    STORAGE_ROOT: root,
    SHUTDOWN_DELAY: '100ms',
  };
  [a, b] = await Promise.all([startApp(dir, start, env), startApp(dir, start, env)]);
}, 20_000);
afterAll(async () => {
  await Promise.all([a?.kill(), b?.kill()]);
  redis?.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

function waitForPort(port: number, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve();
      });
      socket.on('error', () => {
        if (Date.now() > deadline) reject(new Error(`redis-server did not listen on ${port}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

describe.skipIf(!hasRedis)('two instances of the Fastify example on one Redis', () => {
  it('a token signed by one instance is accepted by the other (one key ring)', async () => {
    const issued = await fetch(`${a.base}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sub: 'grace' }),
    });
    const { access_token: token } = (await issued.json()) as { access_token: string };
    const me = await fetch(`${b.base}/api/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ sub: 'grace' });
  });

  it('a quote loaded by one instance is served from the cache by the other', async () => {
    const first = (await (await fetch(`${a.base}/api/quotes/REDIS`)).json()) as object;
    expect(first).toMatchObject({ source: 'upstream' });
    const second = (await (await fetch(`${b.base}/api/quotes/REDIS`)).json()) as object;
    expect(second).toMatchObject({ source: 'cache' });
    const full = await (await fetch(`${b.base}/health/full`)).json();
    expect(full).toMatchObject({
      checks: { cache: { status: 'ok', details: { backend: 'redis' } } },
    });
  });

  it('the rate limit is counted across instances', async () => {
    const remaining = async (base: string) => {
      const res = await fetch(`${base}/api/quotes/REDIS`);
      return Number(/r=(\d+)/.exec(res.headers.get('ratelimit') ?? '')?.[1]);
    };
    const before = await remaining(a.base);
    for (let i = 0; i < 3; i++) await remaining(b.base);
    // 4 requests since `before`: counted apart, `a` would show before - 1.
    expect(await remaining(a.base)).toBeLessThanOrEqual(before - 3);
  });

  it('both shut down cleanly on SIGTERM', async () => {
    a.child.kill('SIGTERM');
    b.child.kill('SIGTERM');
    const exits = await Promise.all([a.exited, b.exited]);
    expect(exits).toEqual([
      { code: 0, signal: null },
      { code: 0, signal: null },
    ]);
  });
});
