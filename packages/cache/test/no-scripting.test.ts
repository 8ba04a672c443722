import { createCache } from '@org/cache';
import { hasCommand, programAvailable, startRedisServer } from '@org/test-utils';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { uniqueNamespace } from './support/redis.js';

describe.runIf(await programAvailable('redis-server', () => hasCommand('redis-server')))(
  'a Redis user that may not run scripts',
  () => {
    it('get, set and getOrSet still work, on plain commands, and the loader runs once', async () => {
      const server = await startRedisServer();
      const admin = new Redis(server.url, { maxRetriesPerRequest: 1 });
      await admin.call(
        'ACL',
        'SETUSER',
        'noscript',
        'on',
        '>pw',
        '~*',
        '&*',
        '+@all',
        '-@scripting',
      );
      const url = server.url.replace('redis://', 'redis://noscript:pw@');
      const namespace = uniqueNamespace('noscript');
      const cache = createCache({ redis: url, namespace });
      const errors: string[] = [];
      cache.on('error', (e) => errors.push(e.operation));
      try {
        expect(await cache.ready()).toBe(true);
        await cache.set('k', { v: 1 });
        expect(await admin.exists(`${namespace}:v:k`)).toBe(1);
        let runs = 0;
        const all = await Promise.all(
          Array.from({ length: 20 }, () =>
            cache.getOrSet('cold', async () => {
              runs++;
              return 'loaded';
            }),
          ),
        );
        expect(all.every((v) => v === 'loaded')).toBe(true);
        expect(runs).toBe(1);
        expect(await admin.exists(`${namespace}:v:cold`)).toBe(1);
        const other = createCache({ redis: url, namespace, memory: false });
        expect(await other.get('k')).toEqual({ v: 1 });
        expect(await other.getOrSet('cold', () => 'not called')).toBe('loaded');
        await other.close();
        // Only the refused script calls were reported (the first of each, and lock releases).
        expect(errors.every((op) => op === 'unlock')).toBe(true);
      } finally {
        await cache.close();
        admin.disconnect();
        await server.stop();
      }
    }, 15_000);
  },
);
