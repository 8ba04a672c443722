import { ALGORITHMS, createKeyRing, type KeyRing } from '@org/key-rotation';
import fc from 'fast-check';
import { jwtVerify } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';

const rings = new Map<string, KeyRing>();
beforeAll(async () => {
  for (const algorithm of ALGORITHMS) rings.set(algorithm, await createKeyRing({ algorithm }));
});

const claims = fc.dictionary(
  fc
    .string({ minLength: 1, maxLength: 12 })
    .filter((k) => !['iat', 'exp', 'iss', 'aud', 'sub', 'nbf', '__proto__'].includes(k)),
  fc.jsonValue({ maxDepth: 3 }),
  { maxKeys: 6 },
);

describe.each(ALGORITHMS)('round trip %s', (algorithm) => {
  it('any JSON claims (unicode included) come back as signed', async () => {
    const ring = rings.get(algorithm)!;
    await fc.assert(
      fc.asyncProperty(claims, fc.string({ maxLength: 20 }), async (c, sub) => {
        const token = await ring.sign(c, { subject: sub, expiresIn: 60 });
        const { payload } = await ring.verify(token);
        const expected = JSON.parse(JSON.stringify({ ...c, sub }));
        for (const [k, v] of Object.entries(expected)) expect(payload[k]).toEqual(v);
        if (algorithm !== 'HS256') {
          const jose = await jwtVerify(token, async (header) => {
            const { importJWK } = await import('jose');
            const jwk = ring.jwks().keys.find((k) => k.kid === header.kid)!;
            return importJWK(jwk, algorithm);
          });
          expect(jose.payload.sub).toBe(sub);
        }
      }),
      { numRuns: algorithm === 'RS256' ? 30 : 100 },
    );
  });
});
