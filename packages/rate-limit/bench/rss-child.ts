// A child of rate-limit.bench.ts: counts one request for each of N distinct ids in one memory
// limiter, then prints its peak resident set (VmHWM, kB). `baseline` does the setup only.
import { readFileSync } from 'node:fs';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { createRateLimiter } from '../src/index.js';

const [subject = 'org', nText = '1000000'] = process.argv.slice(2);
const n = Number(nText);
const ids = (i: number) => `user:${i.toString(36)}:${(i * 2654435761) % 1e9}`;

if (subject === 'org') {
  const limiter = createRateLimiter({
    tiers: { read: { limit: 120, window: '1m', algorithm: 'sliding-window' } },
    maxKeys: n,
  });
  for (let i = 0; i < n; i++) await limiter.limit('read', ids(i));
} else if (subject === 'rlflex') {
  const limiter = new RateLimiterMemory({ points: 120, duration: 60 });
  for (let i = 0; i < n; i++) await limiter.consume(ids(i));
} else {
  for (let i = 0; i < n; i++) ids(i);
}
(globalThis as { gc?: () => void }).gc?.();
const hwm = /VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
process.stdout.write(`${hwm}\n`);
process.exit(0);
