import { createKeyRing } from '@org/key-rotation';
import { fuzzHttpHandler, fuzzJunk } from '@org/test-utils';
import fc from 'fast-check';
import { describe, it } from 'vitest';

const pick = <T>(...xs: T[]) => fc.constantFrom(...xs);

describe('JWKS handler under malformed requests', () => {
  it('never throws out of the listener; answers each with a status line; memory stays flat', async () => {
    await fuzzHttpHandler({
      setup: async () => {
        const ring = await createKeyRing({ algorithm: 'HS256' });
        return {
          listener: ring.jwksHandler(),
          valid: ['/.well-known/jwks.json', '/jwks?x=1'],
          close: () => ring.close(),
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
      statuses: ['200', '304', '405'],
    });
  }, 120_000);
});
