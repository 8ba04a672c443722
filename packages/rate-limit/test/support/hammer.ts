// A child process of exactness.test.ts: waits for "go" on stdin, fires `n` concurrent checks of
// one id against Redis, and prints how many were admitted.
import { createRateLimiter } from '@org/rate-limit';

const [url = '', prefix = '', algorithm = '', n = '500'] = process.argv.slice(2);
const limiter = createRateLimiter({
  tiers: {
    t: {
      limit: 100,
      window: '1h',
      algorithm: algorithm as 'fixed-window',
      refillRate: 0.001, // the bucket does not refill noticeably during the test
      failurePolicy: 'closed', // a fallback would throw rather than count
    },
  },
  redis: url,
  prefix,
  timeout: '5s',
});
await limiter.peek('t', 'warm-up');
process.stdout.write('ready\n');
process.stdin.once('data', async () => {
  const results = await Promise.all(
    Array.from({ length: Number(n) }, () => limiter.limit('t', 'shared')),
  );
  const admitted = results.filter((r) => r.allowed).length;
  const stores = new Set(results.map((r) => r.store));
  process.stdout.write(`${JSON.stringify({ admitted, stores: [...stores] })}\n`);
  await limiter.close();
  process.exit(0);
});
