import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { createKeyRing, fromSecret, type KeyRing } from '@org/key-rotation';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { b64, decodeHeader, hmacToken } from './helpers.js';

const secret = Buffer.alloc(32, 1);
const now = () => Math.floor(Date.now() / 1000);
let hs: KeyRing;
let rs: KeyRing;
let es: KeyRing;
let hsKid: string;

beforeAll(async () => {
  hs = await createKeyRing({
    seed: fromSecret(secret),
    issuer: 'https://id.example',
    audience: 'api',
  });
  rs = await createKeyRing({ algorithm: 'RS256' });
  es = await createKeyRing({ algorithm: 'ES256' });
  hsKid = hs.keys()[0]!.kid;
});

const code = (p: Promise<unknown>) =>
  p.then(
    () => 'verified',
    (e: { code?: string }) => e.code,
  );

const good = () => ({ iss: 'https://id.example', aud: 'api', iat: now(), exp: now() + 60 });

describe('refusals', () => {
  it('accepts a correct hand-made token (control)', async () => {
    expect(await code(hs.verify(hmacToken({ alg: 'HS256', kid: hsKid }, good(), secret)))).toBe(
      'verified',
    );
  });

  it('refuses alg "none", with or without a signature', async () => {
    const body = `${b64({ alg: 'none', kid: hsKid })}.${b64(good())}`;
    expect(await code(hs.verify(`${body}.`))).toBe('ERR_KEY_ROTATION_JWT_INVALID');
    expect(await code(hs.verify(`${body}.AAAA`))).toBe('ERR_KEY_ROTATION_JWT_INVALID');
    const rsKid = rs.keys()[0]!.kid;
    expect(await code(rs.verify(`${b64({ alg: 'none', kid: rsKid })}.${b64(good())}.`))).toBe(
      'ERR_KEY_ROTATION_JWT_INVALID',
    );
  });

  it('refuses HS256 signed with the public key of an RS256 or ES256 key', async () => {
    for (const ring of [rs, es]) {
      const jwk = ring.jwks().keys[0]!;
      const { createPublicKey } = await import('node:crypto');
      const pem = createPublicKey({ key: jwk, format: 'jwk' }).export({
        type: 'spki',
        format: 'pem',
      });
      for (const asSecret of [pem, JSON.stringify(jwk), String(jwk.n ?? jwk.x)]) {
        const token = hmacToken({ alg: 'HS256', kid: jwk.kid }, good(), asSecret);
        expect(await code(ring.verify(token))).toBe('ERR_KEY_ROTATION_JWT_INVALID');
      }
    }
  });

  it('pins the algorithm per key: an ES256 kid with alg RS256 is refused', async () => {
    const kid = es.keys()[0]!.kid;
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const input = `${b64({ alg: 'RS256', kid })}.${b64(good())}`;
    const sig = sign('sha256', Buffer.from(input), privateKey).toString('base64url');
    expect(await code(es.verify(`${input}.${sig}`))).toBe('ERR_KEY_ROTATION_JWT_INVALID');
  });

  it('never takes a key from the token: embedded jwk, jku and x5u are ignored', async () => {
    const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = attacker.publicKey.export({ format: 'jwk' });
    const { calculateJwkThumbprint } = await import('jose');
    const attackerKid = await calculateJwkThumbprint(jwk as never);
    const forge = (kid: string) => {
      const header = {
        alg: 'ES256',
        kid,
        jwk,
        jku: 'https://evil.example/jwks',
        x5u: 'https://evil.example/c',
      };
      const input = `${b64(header)}.${b64(good())}`;
      const sig = sign('sha256', Buffer.from(input), {
        key: attacker.privateKey,
        dsaEncoding: 'ieee-p1363',
      });
      return `${input}.${sig.toString('base64url')}`;
    };
    expect(await code(es.verify(forge(attackerKid)))).toBe('ERR_KEY_ROTATION_JWT_UNKNOWN_KID');
    expect(await code(es.verify(forge(es.keys()[0]!.kid)))).toBe(
      'ERR_KEY_ROTATION_JWT_SIGNATURE_INVALID',
    );
  });

  it('refuses unknown, missing and non-string kids', async () => {
    expect(await code(hs.verify(hmacToken({ alg: 'HS256', kid: 'nope' }, good(), secret)))).toBe(
      'ERR_KEY_ROTATION_JWT_UNKNOWN_KID',
    );
    expect(await code(hs.verify(hmacToken({ alg: 'HS256' }, good(), secret)))).toBe(
      'ERR_KEY_ROTATION_JWT_UNKNOWN_KID',
    );
    for (const kid of ['__proto__', 'constructor', 'toString']) {
      expect(await code(hs.verify(hmacToken({ alg: 'HS256', kid }, good(), secret)))).toBe(
        'ERR_KEY_ROTATION_JWT_UNKNOWN_KID',
      );
    }
    for (const kid of [1, null, {}, [hsKid], '']) {
      expect(await code(hs.verify(hmacToken({ alg: 'HS256', kid }, good(), secret)))).toBe(
        'ERR_KEY_ROTATION_JWT_UNKNOWN_KID',
      );
    }
  });

  it('refuses a retired key', async () => {
    const ring = await createKeyRing({ seed: fromSecret(secret) });
    const token = await ring.sign({}, { expiresIn: '60s' });
    const kid = decodeHeader(token).kid as string;
    await ring.retire(kid);
    expect(await code(ring.verify(token))).toBe('ERR_KEY_ROTATION_JWT_KEY_RETIRED');
    expect(await code(ring.verify(await ring.sign({})))).toBe('verified');
  });

  it('refuses any crit extension and b64', async () => {
    for (const extra of [
      { crit: ['exp'], exp: 1 },
      { crit: [] },
      { crit: ['b64'], b64: false },
      { b64: true },
    ]) {
      const token = hmacToken({ alg: 'HS256', kid: hsKid, ...extra }, good(), secret);
      expect(await code(hs.verify(token))).toBe('ERR_KEY_ROTATION_JWT_INVALID');
    }
  });

  it('refuses oversize tokens before any parsing', async () => {
    const big = hmacToken(
      { alg: 'HS256', kid: hsKid },
      { ...good(), pad: 'x'.repeat(9000) },
      secret,
    );
    expect(await code(hs.verify(big))).toBe('ERR_KEY_ROTATION_JWT_TOO_LARGE');
    const garbage = '{'.repeat(50_000_000);
    const t0 = performance.now();
    expect(await code(hs.verify(garbage))).toBe('ERR_KEY_ROTATION_JWT_TOO_LARGE');
    expect(performance.now() - t0).toBeLessThan(50);
    const ring = await createKeyRing({ seed: fromSecret(secret), maxTokenBytes: 100_000 });
    expect(await code(ring.verify(big.replace(hsKid, ring.keys()[0]!.kid)))).not.toBe(
      'ERR_KEY_ROTATION_JWT_TOO_LARGE',
    );
  });

  it('refuses tampered payloads, headers and signatures with one generic message', async () => {
    const token = hmacToken({ alg: 'HS256', kid: hsKid }, good(), secret);
    const [h, p, s] = token.split('.') as [string, string, string];
    const forged = `${h}.${b64({ ...good(), admin: true })}.${s}`;
    const err = await hs.verify(forged).catch((e: Error) => e);
    expect(err).toMatchObject({
      code: 'ERR_KEY_ROTATION_JWT_SIGNATURE_INVALID',
      message: 'signature verification failed',
    });
    expect(
      await code(hs.verify(`${b64({ alg: 'HS256', kid: hsKid, typ: 'JWT' })}.${p}.${s}`)),
    ).toBe('ERR_KEY_ROTATION_JWT_SIGNATURE_INVALID');
    expect(await code(hs.verify(`${h}.${p}.${s.slice(0, -1)}`))).toBe(
      'ERR_KEY_ROTATION_JWT_SIGNATURE_INVALID',
    );
    expect(await code(hs.verify(`${h}.${p}.${s}=`))).toBe('ERR_KEY_ROTATION_JWT_INVALID');
  });

  it('refuses a non-canonical base64url signature (same bytes, other spelling)', async () => {
    const rsKid = es.keys()[0]!.kid;
    const token = await es.sign({}, { expiresIn: '60s' });
    expect(decodeHeader(token).kid).toBe(rsKid);
    const s = token.split('.')[2]!;
    // 64 bytes → 86 chars; the last char carries 2 unused bits.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(s.at(-1)!);
    const twin = `${token.slice(0, -1)}${alphabet[last ^ 1]}`;
    expect(Buffer.from(twin.split('.')[2]!, 'base64url')).toEqual(Buffer.from(s, 'base64url'));
    expect(await code(es.verify(twin))).toBe('ERR_KEY_ROTATION_JWT_SIGNATURE_INVALID');
    expect(await code(es.verify(token))).toBe('verified');
  });

  it('refuses malformed shapes', async () => {
    const sig = createHmac('sha256', secret).update('x').digest('base64url');
    for (const bad of [
      '',
      'a.b',
      'a.b.c.d.e',
      `${b64({ alg: 'HS256', kid: hsKid })}..${sig}`,
      `${Buffer.from('not json').toString('base64url')}.${b64(good())}.${sig}`,
      `${b64([1])}.${b64(good())}.${sig}`,
      `${b64({ alg: 'HS256', kid: hsKid })}.${b64(good())}.${sig}\u0141`,
      `${b64({ alg: 'HS256', kid: hsKid })}.${b64(good())}.${sig}`.replace('e', 'é'),
    ]) {
      expect(await code(hs.verify(bad))).toMatch(
        /^ERR_KEY_ROTATION_JWT_(INVALID|SIGNATURE_INVALID)$/,
      );
    }
    expect(await code(hs.verify(hmacToken({ alg: 'HS256', kid: hsKid }, [1, 2], secret)))).toBe(
      'ERR_KEY_ROTATION_JWT_INVALID',
    );
    expect(await code(hs.verify(123 as unknown as string))).toBe('ERR_KEY_ROTATION_JWT_INVALID');
  });
});

describe('claims', () => {
  const verify = (payload: Record<string, unknown>, opts = {}) =>
    code(hs.verify(hmacToken({ alg: 'HS256', kid: hsKid }, payload, secret), opts));

  it('checks exp, nbf and iat', async () => {
    expect(await verify({ ...good(), exp: now() - 1 })).toBe('ERR_KEY_ROTATION_JWT_EXPIRED');
    expect(await verify({ ...good(), exp: now() - 5 }, { clockTolerance: '10s' })).toBe('verified');
    expect(await verify({ ...good(), exp: undefined })).toBe('ERR_KEY_ROTATION_JWT_CLAIM_INVALID');
    expect(await verify({ ...good(), exp: undefined }, { requireExp: false })).toBe('verified');
    expect(await verify({ ...good(), exp: '9999999999' })).toBe(
      'ERR_KEY_ROTATION_JWT_CLAIM_INVALID',
    );
    expect(await verify({ ...good(), nbf: now() + 60 })).toBe('ERR_KEY_ROTATION_JWT_CLAIM_INVALID');
    expect(await verify({ ...good(), nbf: now() - 1 })).toBe('verified');
    // A signer whose clock runs ahead is tolerated, unless maxTokenAge asks about iat.
    expect(await verify({ ...good(), iat: now() + 60 })).toBe('verified');
    expect(await verify({ ...good(), iat: now() + 60 }, { maxTokenAge: '10m' })).toBe(
      'ERR_KEY_ROTATION_JWT_CLAIM_INVALID',
    );
    expect(await verify({ ...good(), iat: 'yesterday' })).toBe(
      'ERR_KEY_ROTATION_JWT_CLAIM_INVALID',
    );
  });

  it('checks iss and aud from the ring and from verify options', async () => {
    expect(await verify({ ...good(), iss: 'https://evil.example' })).toBe(
      'ERR_KEY_ROTATION_JWT_CLAIM_INVALID',
    );
    expect(await verify({ ...good(), iss: undefined })).toBe('ERR_KEY_ROTATION_JWT_CLAIM_INVALID');
    expect(await verify({ ...good(), aud: 'other' })).toBe('ERR_KEY_ROTATION_JWT_CLAIM_INVALID');
    expect(await verify({ ...good(), aud: ['other', 'api'] })).toBe('verified');
    expect(await verify({ ...good(), aud: 'web' }, { audience: ['web', 'mobile'] })).toBe(
      'verified',
    );
    expect(await verify({ ...good(), iss: 'b' }, { issuer: ['a', 'b'] })).toBe('verified');
    const err = await hs
      .verify(hmacToken({ alg: 'HS256', kid: hsKid }, { ...good(), aud: 'x' }, secret))
      .catch((e) => e);
    expect(err.claim).toBe('aud');
  });

  it('checks typ when asked', async () => {
    const token = (typ?: string) =>
      hs.verify(hmacToken({ alg: 'HS256', kid: hsKid, typ }, good(), secret), { typ: 'at+jwt' });
    expect(await code(token('at+jwt'))).toBe('verified');
    expect(await code(token('application/AT+JWT'))).toBe('verified');
    expect(await code(token('JWT'))).toBe('ERR_KEY_ROTATION_JWT_CLAIM_INVALID');
    expect(await code(token(undefined))).toBe('ERR_KEY_ROTATION_JWT_CLAIM_INVALID');
    expect(await code(hs.verify(await hs.sign({}), { typ: 'JWT' }))).toBe('verified');
  });

  it('checks maxTokenAge against iat', async () => {
    expect(await verify({ ...good(), iat: now() - 120 }, { maxTokenAge: 60_000 })).toBe(
      'ERR_KEY_ROTATION_JWT_EXPIRED',
    );
    expect(await verify({ ...good(), iat: now() - 30 }, { maxTokenAge: '1m' })).toBe('verified');
    expect(await verify({ ...good(), iat: undefined }, { maxTokenAge: 60_000 })).toBe(
      'ERR_KEY_ROTATION_JWT_CLAIM_INVALID',
    );
  });
});

describe('fuzz', () => {
  it('no single-character mutation of a valid token verifies', async () => {
    const token = await hs.sign({ role: 'user' }, { expiresIn: '60s' });
    const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ é\u0000';
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: token.length - 1 }),
        fc.constantFrom(...chars),
        fc.constantFrom('replace', 'insert', 'delete'),
        async (at, ch, op) => {
          const mutated =
            op === 'replace'
              ? token.slice(0, at) + ch + token.slice(at + 1)
              : op === 'insert'
                ? token.slice(0, at) + ch + token.slice(at)
                : token.slice(0, at) + token.slice(at + 1);
          if (mutated === token) return;
          const result = await code(hs.verify(mutated));
          expect(result).not.toBe('verified');
          expect(result).toMatch(/^ERR_KEY_ROTATION_JWT_/);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('arbitrary strings never verify and never throw a non-KeyRotationError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 300 }), async (s) => {
        expect(await code(rs.verify(s))).toMatch(/^ERR_KEY_ROTATION_JWT_/);
      }),
      { numRuns: 1000 },
    );
  });
});
