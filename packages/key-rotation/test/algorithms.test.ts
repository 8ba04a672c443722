import { ALGORITHMS, createKeyRing, KeyRotationError } from '@org/key-rotation';
import { calculateJwkThumbprint, createLocalJWKSet, importJWK, jwtVerify, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { decodeHeader, decodePayload } from './helpers.js';

describe.each(ALGORITHMS)('%s', (algorithm) => {
  it('signs a compact JWS with kid, iat, exp and verifies it', async () => {
    const ring = await createKeyRing({ algorithm });
    const token = await ring.sign(
      { role: 'admin' },
      { expiresIn: '15m', subject: 'u1', audience: 'api' },
    );
    const header = decodeHeader(token);
    const payload = decodePayload(token);
    expect(header).toEqual({ alg: algorithm, kid: ring.keys()[0]!.kid, typ: 'JWT' });
    expect(payload.exp).toBe((payload.iat as number) + 900);
    const { payload: p, protectedHeader, key } = await ring.verify(token, { audience: 'api' });
    expect(p).toMatchObject({ role: 'admin', sub: 'u1', aud: 'api' });
    expect(protectedHeader.alg).toBe(algorithm);
    expect(key).toEqual({ kid: header.kid, alg: algorithm });
  });

  it('takes expiresIn as milliseconds or a string, and writes whole seconds', async () => {
    const ring = await createKeyRing({ algorithm });
    const a = decodePayload(await ring.sign({}, { expiresIn: 60_000 }));
    const b = decodePayload(await ring.sign({}, { expiresIn: '2h' }));
    const c = decodePayload(await ring.sign({}));
    expect((a.exp as number) - (a.iat as number)).toBe(60);
    expect((b.exp as number) - (b.iat as number)).toBe(7200);
    expect((c.exp as number) - (c.iat as number)).toBe(900);
    await expect(ring.sign({}, { expiresIn: 'soon' as never })).rejects.toMatchObject({
      code: 'ERR_KEY_ROTATION_INVALID_OPTION',
    });
    // A lifetime under a second is a count of seconds read as milliseconds: refused, not 0 s.
    await expect(ring.sign({}, { expiresIn: 60 })).rejects.toMatchObject({
      code: 'ERR_KEY_ROTATION_INVALID_OPTION',
      message: expect.stringMatching(/expiresIn.*'1s'/),
    });
  });

  it('uses the RFC 7638 thumbprint as kid', async () => {
    const ring = await createKeyRing({ algorithm });
    const kid = ring.keys()[0]!.kid;
    if (algorithm === 'HS256') {
      expect(ring.jwks().keys).toEqual([]);
      expect(kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    } else {
      const [jwk] = ring.jwks().keys;
      expect(jwk).toMatchObject({ kid, alg: algorithm, use: 'sig' });
      expect(jwk).not.toHaveProperty('d');
      expect(await calculateJwkThumbprint(jwk!)).toBe(kid);
    }
  });

  it.runIf(algorithm !== 'HS256')('interoperates with jose both ways', async () => {
    const ring = await createKeyRing({ algorithm });
    const token = await ring.sign({ x: 1 }, { expiresIn: '60s' });
    const { payload } = await jwtVerify(token, createLocalJWKSet(ring.jwks()));
    expect(payload.x).toBe(1);
    // A token jose signs with a key of another ring is refused: kid unknown here.
    const other = await createKeyRing({ algorithm });
    const otherToken = await other.sign({}, { expiresIn: '60s' });
    await expect(ring.verify(otherToken)).rejects.toMatchObject({
      code: 'ERR_KEY_ROTATION_JWT_UNKNOWN_KID',
    });
    expect(await importJWK(ring.jwks().keys[0]!, algorithm)).toBeTruthy();
  });
});

describe.each(['RS256', 'ES256', 'EdDSA'] as const)('jose-signed %s tokens', (algorithm) => {
  it('verify with a ring seeded with the same private key', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const { fromPrivateKey } = await import('@org/key-rotation');
    const { privateKey } =
      algorithm === 'RS256'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : algorithm === 'ES256'
          ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
          : generateKeyPairSync('ed25519');
    const ring = await createKeyRing({ seed: fromPrivateKey(algorithm, privateKey) });
    const kid = ring.keys()[0]!.kid;
    const token = await new SignJWT({ from: 'jose' })
      .setProtectedHeader({ alg: algorithm, kid })
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
    expect((await ring.verify(token)).payload.from).toBe('jose');
  });
});

describe('sign claims', () => {
  it('iat and exp come from the ring; iss and aud from options, then claims, then the ring', async () => {
    const ring = await createKeyRing({
      algorithm: 'HS256',
      issuer: 'ring-iss',
      audience: 'ring-aud',
    });
    const p1 = decodePayload(
      await ring.sign({ exp: 1, iat: 1, custom: true }, { expiresIn: '10s' }),
    );
    expect(p1).toMatchObject({ iss: 'ring-iss', aud: 'ring-aud', custom: true });
    expect(p1.exp).toBe((p1.iat as number) + 10);
    expect(p1.iat).toBeGreaterThan(1);
    const p2 = decodePayload(await ring.sign({ iss: 'claim-iss', aud: 'claim-aud' }));
    expect(p2).toMatchObject({ iss: 'claim-iss', aud: 'claim-aud' });
    const p3 = decodePayload(
      await ring.sign(
        { aud: 'claim-aud' },
        { audience: ['a', 'b'], issuer: 'opt', notBefore: '5s', jwtId: 'j1' },
      ),
    );
    expect(p3).toMatchObject({
      iss: 'opt',
      aud: ['a', 'b'],
      jti: 'j1',
      nbf: (p3.iat as number) + 5,
    });
  });
});

describe('algorithm option', () => {
  it('refuses nonsense numeric options with the option named', async () => {
    await expect(createKeyRing({ algorithm: 'HS256', maxTokenBytes: 0 })).rejects.toThrow(
      /maxTokenBytes/,
    );
    await expect(createKeyRing({ algorithm: 'HS256', refreshInterval: -1 })).rejects.toThrow(
      /refreshInterval/,
    );
    await expect(
      createKeyRing({ algorithm: 'HS256', gracePeriod: 'forever' as never }),
    ).rejects.toThrow(/gracePeriod/);
    const { createRemoteVerifier } = await import('@org/key-rotation');
    expect(() => createRemoteVerifier('https://x/jwks', { cooldown: Number.NaN })).toThrow(
      /cooldown/,
    );
  });

  it('defaults to RS256 and refuses unknown algorithms', async () => {
    expect((await createKeyRing()).algorithm).toBe('RS256');
    await expect(createKeyRing({ algorithm: 'HS512' as never })).rejects.toBeInstanceOf(
      KeyRotationError,
    );
  });

  it('verifies HS256 tokens that jose signed with the same secret and kid', async () => {
    const secret = Buffer.alloc(32, 9);
    const { fromSecret } = await import('@org/key-rotation');
    const ring = await createKeyRing({ seed: fromSecret(secret) });
    const kid = ring.keys()[0]!.kid;
    const token = await new SignJWT({ a: 1 })
      .setProtectedHeader({ alg: 'HS256', kid })
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new Uint8Array(secret));
    expect((await ring.verify(token)).payload.a).toBe(1);
  });
});
