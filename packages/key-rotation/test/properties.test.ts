import { ALGORITHMS, createKeyRing, createRemoteVerifier, type KeyRing } from '@org/key-rotation';
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
        const token = await ring.sign(c, { subject: sub, expiresIn: '60s' });
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

describe('remote JWKS parsing', () => {
  it('any JSON document as a JWKS fails with a coded error, never a crash or a verified token', async () => {
    const ring = rings.get('ES256')!;
    const token = await ring.sign({});
    const realKey = ring.jwks().keys[0]!;
    const jwkish = fc.record(
      {
        kty: fc.constantFrom('RSA', 'EC', 'OKP', 'oct', 'x'),
        kid: fc.oneof(fc.constant(realKey.kid), fc.string()),
        alg: fc.constantFrom('ES256', 'RS256', 'EdDSA', 'HS256', 'none', undefined),
        crv: fc.constantFrom('P-256', 'Ed25519', 'P-384', undefined),
        x: fc.oneof(fc.constant(realKey.x), fc.base64String()),
        y: fc.oneof(fc.constant('AAAA'), fc.base64String()),
        use: fc.constantFrom('sig', 'enc', undefined),
      },
      { requiredKeys: [] },
    );
    const doc = fc.oneof(
      fc.jsonValue(),
      fc.record({ keys: fc.array(fc.oneof(jwkish, fc.jsonValue()), { maxLength: 4 }) }),
    );
    await fc.assert(
      fc.asyncProperty(doc, async (d) => {
        const verifier = createRemoteVerifier('http://jwks.invalid/jwks.json', {
          fetch: async () => new Response(JSON.stringify(d)),
        });
        const outcome = await verifier.verify(token).then(
          () => 'verified',
          (e: { code?: string }) => e.code,
        );
        expect(outcome).toMatch(/^ERR_KEY_ROTATION_(JWT|JWKS)_/);
      }),
      { numRuns: 300 },
    );
  });
});
