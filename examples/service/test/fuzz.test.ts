import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fuzzHttpHandler, fuzzJunk } from '@org/test-utils';
import { describe, it } from 'vitest';
import { createService } from '../src/server.js';

const header = (name: string, prefix = '') =>
  fuzzJunk.map((s): [string, string] => [name, `${prefix}${s}`]);

async function fuzzService(rateLimit: boolean, statuses: string[], numRuns: number) {
  const root = mkdtempSync(join(tmpdir(), 'example-fuzz-'));
  process.env.STORAGE_ROOT = root;
  process.env.MAX_UPLOAD_BYTES = '4096';
  delete process.env.REDIS_URL;
  delete process.env.AWS_S3_BUCKET;
  await fuzzHttpHandler({
    setup: async () => {
      const service = await createService({ shutdownDelay: 0, drainTimeout: 500, rateLimit });
      const listener = service.server.listeners('request')[0] as (
        req: IncomingMessage,
        res: ServerResponse,
      ) => unknown;
      return {
        listener,
        valid: [
          '/',
          '/health',
          '/health/full?format=ietf',
          '/readyz',
          '/cache/contractor?id=7',
          '/storage/uploads?key=docs/a.txt',
          '/storage/list?namespace=uploads&prefix=docs/',
          '/storage/signed-url?key=docs/a.txt&expiresIn=60',
          '/storage/signed?key=x&sig=y',
          '/backup-crypto',
          '/backup-crypto/decrypt',
          '/backup-crypto/decrypt?format=chunked',
          '/backup-crypto/encrypt?format=chunked',
          '/auth/token',
          '/auth/me',
          '/auth/refresh',
          '/auth/rotate',
          '/auth/keys',
          '/.well-known/jwks.json',
          '/rate-limit/status',
          '/rate-limit/quote',
          '/secrets',
          '/breakers',
          '/alerts/test',
        ],
        close: async () => {
          await service.close();
          rmSync(root, { recursive: true, force: true });
          delete process.env.MAX_UPLOAD_BYTES;
        },
      };
    },
    oddTargets: ['/storage/uploads?key=%', '/cache/contractor?id=%zz', '/auth/me?%'],
    prefixes: ['/', '/storage/uploads?key=', '/cache/contractor?id=', '/storage/list?prefix='],
    headers: [
      header('Authorization', 'Bearer '),
      header('Content-Type'),
      header('Accept'),
      header('If-None-Match'),
      header('Range', 'bytes='),
    ],
    statuses,
    numRuns,
  });
}

describe('the example service under malformed requests', () => {
  it('never throws out of the listener; no 5xx for junk; memory stays flat', async () => {
    // Every route, not the rate limiter's 429s: the fuzz comes from one address.
    await fuzzService(false, ['200', '400', '401', '403', '404'], 2_000);
  }, 300_000);

  it('with the rate limits on, junk is refused with 429 past them and nothing else breaks', async () => {
    await fuzzService(true, ['200', '404', '429'], 600);
  }, 300_000);
});
