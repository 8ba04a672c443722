import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createRateLimiter, isRateLimitError, RateLimitErrorCode } from '@org/rate-limit';
import { hasCommand, programAvailable, startRedisServer, waitFor } from '@org/test-utils';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { uniquePrefix } from './support/clock.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const TIMEOUT_MS = 100;
// Beyond the event loop's measured lag: promise hops between the timer and the caller.
const SLACK_MS = 25;

describe.runIf(await programAvailable('redis-server', () => hasCommand('redis-server')))(
  'chaos: Redis paused (SIGSTOP), then killed, then restarted, under load',
  () => {
    it.each([
      ['a URL (client made by the limiter)', 'url'],
      ['an app-made ioredis client with default options (offline queue on)', 'client'],
    ])(
      'with %s: each policy does what it says, every call is bounded, Redis comes back',
      async (_, mode) => {
        const server = await startRedisServer();
        const appClient = mode === 'client' ? new Redis(server.url) : undefined;
        appClient?.on('error', () => {});
        const limiter = createRateLimiter({
          tiers: {
            open: { limit: 5, window: '1m', failurePolicy: 'open' },
            closed: { limit: 5, window: '1m', failurePolicy: 'closed' },
            local: { limit: 5, window: '1h', failurePolicy: 'local', algorithm: 'fixed-window' },
          },
          redis: appClient ?? server.url,
          prefix: uniquePrefix('chaos'),
          timeout: TIMEOUT_MS,
          probeInterval: 200,
        });
        const events: string[] = [];
        limiter.on('fallback', () => events.push('fallback'));
        limiter.on('recovered', () => events.push('recovered'));
        try {
          // Warm: three of the five logins of `a` are spent, on Redis.
          for (let i = 0; i < 3; i++) {
            expect(await limiter.limit('local', 'a')).toMatchObject({
              allowed: true,
              store: 'redis',
            });
          }
          expect(await limiter.limit('closed', 'a')).toMatchObject({ store: 'redis' });

          const lag = monitorEventLoopDelay({ resolution: 10 });
          lag.enable();
          let stop = false;
          let slowest = 0;
          const seen = {
            open: new Set<string>(),
            closed: new Set<string>(),
            local: new Set<string>(),
          };
          const unexpected: unknown[] = [];
          const worker = async (w: number) => {
            for (let i = 0; !stop; i++) {
              const tier = (['open', 'closed', 'local'] as const)[(w + i) % 3]!;
              const t0 = performance.now();
              try {
                // A fresh id each time: a refused id would be answered from the local blocked cache.
                const r = await limiter.limit(tier, `w${w}:${i}`);
                seen[tier].add(`${r.store}/${r.fallback ?? '-'}`);
              } catch (err) {
                if (tier === 'closed' && isRateLimitError(err, RateLimitErrorCode.Unavailable)) {
                  seen.closed.add('refused');
                } else unexpected.push(err);
              }
              slowest = Math.max(slowest, performance.now() - t0);
              await new Promise((r) => setImmediate(r));
            }
          };
          const workers = Array.from({ length: 30 }, (_, w) => worker(w));
          await sleep(200);
          server.pause();
          await sleep(800);
          expect(limiter.degraded).toBe(true);
          // The local fallback was kept warm: `a` has two logins left, not five.
          const after: string[] = [];
          for (let i = 0; i < 5; i++) {
            const r = await limiter.limit('local', 'a');
            after.push(`${r.allowed}/${r.store}/${r.fallback}`);
          }
          expect(after).toEqual([
            ...Array(2).fill('true/memory/local'),
            ...Array(3).fill('false/memory/local'),
          ]);
          expect(await limiter.check()).toMatchObject({ status: 'warn' });
          // kill() thaws the process before killing it: Redis may answer a probe in that instant, and
          // the limiter go back to it and leave again. Both are right; what is checked is the end.
          expect(events).toEqual(['fallback']);
          await server.kill();
          await sleep(800);
          stop = true;
          await Promise.all(workers);

          expect(unexpected).toEqual([]);
          lag.disable();
          // A call may overrun its timer only by how late the event loop ran timers at all.
          expect(slowest).toBeLessThan(TIMEOUT_MS + lag.max / 1e6 + SLACK_MS);
          expect(seen.open).toContain('memory/open');
          expect(seen.closed).toContain('refused');
          expect(seen.local).toContain('memory/local');
          expect(events.at(-1)).toBe('fallback');
          expect(limiter.degraded).toBe(true);

          await server.restart();
          await waitFor('back on Redis', async () => !limiter.degraded, 5_000);
          expect(events.at(-1)).toBe('recovered');
          expect(await limiter.limit('open', 'after')).toMatchObject({ store: 'redis' });
          expect(await limiter.limit('closed', 'after')).toMatchObject({ store: 'redis' });
          expect(await limiter.check()).toEqual({ status: 'ok' });
        } finally {
          await limiter.close();
          appClient?.disconnect();
          await server.stop();
        }
      },
      30_000,
    );
  },
);
