import { createRateLimiter } from '@org/rate-limit';
import { hasCommand, programAvailable, startRedisServer } from '@org/test-utils';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';

// SCRIPT FLUSH empties the script cache of the whole server: done on a Redis of the test's own,
// never on the shared one.
describe.runIf(await programAvailable('redis-server', () => hasCommand('redis-server')))(
  'NOSCRIPT',
  () => {
    it.each(['fixed-window', 'sliding-window', 'token-bucket'] as const)(
      '%s: the script is reloaded after SCRIPT FLUSH',
      async (algorithm) => {
        const server = await startRedisServer();
        const admin = new Redis(server.url);
        const limiter = createRateLimiter({
          tiers: { t: { limit: 5, window: '1m', algorithm } },
          redis: server.url,
        });
        try {
          expect(await limiter.limit('t', 'a')).toMatchObject({ store: 'redis', remaining: 4 });
          await admin.script('FLUSH');
          expect(await limiter.limit('t', 'a')).toMatchObject({ store: 'redis', remaining: 3 });
          expect(limiter.degraded).toBe(false);
        } finally {
          await limiter.close();
          admin.disconnect();
          await server.stop();
        }
      },
    );
  },
);
