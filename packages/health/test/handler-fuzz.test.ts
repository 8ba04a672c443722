import { createHealth } from '@org/health';
import { fuzzHttpHandler, fuzzJunk } from '@org/test-utils';
import fc from 'fast-check';
import { describe, it } from 'vitest';

const pick = <T>(...xs: T[]) => fc.constantFrom(...xs);

describe('health handler under malformed requests', () => {
  it('never throws out of the listener; answers each with a status line; memory stays flat', async () => {
    await fuzzHttpHandler({
      setup: () => {
        const health = createHealth({ checks: { database: () => undefined }, cache: 0 });
        return {
          listener: health.handler(),
          valid: [
            '/health',
            '/health/full',
            '/readyz',
            '/livez',
            '/startupz',
            '/health?format=ietf',
            '/health/full?format=simple',
          ],
          close: () => health.close(),
        };
      },
      oddTargets: ['/health?format=%zz'],
      prefixes: ['/', 'http://127.0.0.1/', '//x/'],
      headers: [
        fc.tuple(
          pick('Accept', 'accept'),
          fc.oneof(
            pick('application/health+json', 'application/json', '*/*', 'text/html;q=0', ''),
            fuzzJunk,
          ),
        ),
        fc.tuple(pick('If-None-Match'), fc.oneof(pick('*', 'W/"x"', '"x", W/"y"', 'W/'), fuzzJunk)),
      ],
      statuses: ['200', '404', '405'],
    });
  }, 120_000);
});
