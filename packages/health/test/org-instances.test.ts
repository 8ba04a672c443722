import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCache } from '@org/cache';
import { cacheCheck, createHealth, storageCheck } from '@org/health';
import { createStorage } from '@org/storage';
import { hasCommand, programAvailable, startRedisServer } from '@org/test-utils';
import { afterAll, describe, expect, it } from 'vitest';

describe('storageCheck with a real @org/storage instance', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('passes on a writable root and fails when the root cannot be used', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'org-health-'));
    dirs.push(dir);
    const blocked = join(dir, 'a-file');
    await writeFile(blocked, 'not a folder');
    const health = createHealth({
      checks: {
        files: storageCheck(createStorage({ local: { root: join(dir, 'data') } })),
        broken: storageCheck(createStorage({ local: { root: join(blocked, 'data') } }), {
          critical: false,
        }),
      },
    });
    const r = await health.full();
    expect(r.checks.files).toMatchObject({ status: 'ok', details: { backend: 'local' } });
    expect(r.checks.broken?.status).toBe('fail');
    expect(r.status).toBe('degraded');
  });
});

describe.runIf(await programAvailable('redis-server', () => hasCommand('redis-server')))(
  'cacheCheck with a real @org/cache on a Redis this suite stops',
  () => {
    it('is ok with Redis up and fails once Redis is killed', async () => {
      const server = await startRedisServer();
      const cache = createCache({ redis: server.url, namespace: `health-${process.pid}` });
      try {
        await cache.ready(); // the cache connects lazily; until then it reports unavailable
        const health = createHealth({ checks: { cache: cacheCheck(cache) }, cache: 0 });
        const up = await health.full();
        expect(up.checks.cache).toMatchObject({ status: 'ok', details: { backend: 'redis' } });
        await server.kill();
        const down = await health.full();
        expect(down.checks.cache).toMatchObject({ status: 'fail', reason: 'redis unavailable' });
        expect(down.status).toBe('unhealthy');
      } finally {
        await cache.close();
        await server.stop();
      }
    });
  },
);
