// Setups users write, type-checked by scripts/check-consumer.mjs against the packed packages
// with `exactOptionalPropertyTypes`: optional values straight from the environment, the Redis
// option as a URL or a client, and the subpath entries.

import { Fernet, generateKey } from '@org/backup-crypto';
import { createCache } from '@org/cache';
import { isOrgError, parseDuration } from '@org/core';
import { createHealth } from '@org/health';
import { createKeyRing } from '@org/key-rotation';
import { createBreaker, retry } from '@org/resilience';
import { retry as retryAlone } from '@org/resilience/retry';
import { createStorage } from '@org/storage';

const cache = createCache({ redis: process.env.REDIS_URL, ttl: '5m' });
const storage = createStorage({
  timeout: process.env.STORAGE_TIMEOUT ? Number(process.env.STORAGE_TIMEOUT) : undefined,
});
const breaker = createBreaker(async (_ctx, n: number) => n * 2, { name: 'double', timeout: '2s' });
const health = createHealth({ checks: { cache: () => undefined }, timeout: '1s' });
const ring = await createKeyRing({ gracePeriod: '7d' });
const fernet = new Fernet(generateKey());
fernet.decrypt(fernet.encrypt('x'), { ttl: '1h' });

await retry(async () => 1, { attempts: 3 });
await retryAlone(async () => 1, { attempts: 3, minDelay: '10ms' });
console.log(parseDuration('1m'), isOrgError(new Error('x')));
await Promise.all([cache.close(), storage.close(), breaker.close(), health.close(), ring.close()]);
