import { generateKeyPairSync } from 'node:crypto';
import {
  createKeyRing,
  createMemoryKeyStore,
  fromPrivateKey,
  fromSecret,
  isKeyRotationError,
} from '@org/key-rotation';
import { describe, expect, it } from 'vitest';
import { decodeHeader, hmacToken, manualClock } from './helpers.js';

const HOUR = 3600_000;
const code = (p: Promise<unknown>) =>
  p.then(
    () => 'verified',
    (e: { code?: string }) => e.code,
  );

describe.each(['RS256', 'ES256', 'EdDSA', 'HS256'] as const)('lifecycle %s', (algorithm) => {
  it('rotate: the old key verifies through the grace period, then is retired', async () => {
    const clock = manualClock();
    const ring = await createKeyRing({ algorithm, gracePeriod: '1d', clock });
    const oldKid = ring.keys()[0]!.kid;
    await expect(ring.sign({}, { expiresIn: '2d' })).rejects.toThrow(/longer than gracePeriod/);
    const oldToken = await ring.sign({}, { expiresIn: '1d' });
    const active = await ring.rotate();
    expect(active.kid).not.toBe(oldKid);
    const newToken = await ring.sign({}, { expiresIn: '1d' });
    expect(decodeHeader(newToken).kid).toBe(active.kid);
    const old = ring.keys().find((k) => k.kid === oldKid)!;
    expect(old.status).toBe('verify-only');
    expect(old.verifyUntil?.getTime()).toBe(clock() + 24 * HOUR);

    clock.advance(24 * HOUR - 1);
    expect(await code(ring.verify(oldToken))).toBe('verified');
    clock.advance(1);
    expect(await code(ring.verify(oldToken))).toBe('ERR_KEY_ROTATION_JWT_KEY_RETIRED');
    expect(ring.keys().find((k) => k.kid === oldKid)!.status).toBe('retired');
    expect(await code(ring.verify(await ring.sign({})))).toBe('verified');
    expect(await code(ring.verify(newToken, { clockTolerance: '1s' }))).toBe('verified');
    if (algorithm !== 'HS256') expect(ring.jwks().keys.map((k) => k.kid)).toEqual([active.kid]);
    await ring.close();
  });

  it('stage: a pending key is published but does not sign until rotate()', async () => {
    const clock = manualClock();
    const ring = await createKeyRing({ algorithm, clock });
    const first = ring.keys()[0]!.kid;
    clock.advance(1000);
    const staged = await ring.stage();
    expect(staged.status).toBe('pending');
    expect(decodeHeader(await ring.sign({})).kid).toBe(first);
    if (algorithm !== 'HS256') {
      expect(
        ring
          .jwks()
          .keys.map((k) => k.kid)
          .sort(),
      ).toEqual([first, staged.kid].sort());
    }
    const active = await ring.rotate();
    expect(active.kid).toBe(staged.kid);
    expect(decodeHeader(await ring.sign({})).kid).toBe(staged.kid);
    expect(ring.keys().map((k) => [k.kid, k.status])).toEqual([
      [staged.kid, 'active'],
      [first, 'verify-only'],
    ]);
  });
});

describe('retire', () => {
  it('retiring the signing key promotes a pending one at once', async () => {
    const ring = await createKeyRing({ algorithm: 'EdDSA' });
    const first = ring.keys()[0]!.kid;
    const token = await ring.sign({});
    const staged = await ring.stage();
    const seen: string[] = [];
    ring.on('retire', (e) => seen.push(e.kid));
    await ring.retire(first);
    expect(seen).toEqual([first]);
    expect(ring.keys().find((k) => k.status === 'active')?.kid).toBe(staged.kid);
    expect(await code(ring.verify(token))).toBe('ERR_KEY_ROTATION_JWT_KEY_RETIRED');
    expect(ring.jwks().keys.map((k) => k.kid)).toEqual([staged.kid]);
    await expect(ring.retire('nope')).rejects.toMatchObject({
      code: 'ERR_KEY_ROTATION_KEY_NOT_FOUND',
    });
  });

  it('a retired pending key is never promoted; several pending keys go oldest first', async () => {
    const clock = manualClock();
    const ring = await createKeyRing({ algorithm: 'ES256', clock });
    clock.advance(1);
    const p1 = await ring.stage();
    clock.advance(1);
    const p2 = await ring.stage();
    clock.advance(1);
    const p3 = await ring.stage();
    await ring.retire(p1.kid);
    expect(ring.jwks().keys.map((k) => k.kid)).not.toContain(p1.kid);
    expect((await ring.rotate()).kid).toBe(p2.kid);
    expect((await ring.rotate()).kid).toBe(p3.kid);
    const fresh = await ring.rotate();
    expect([p1.kid, p2.kid, p3.kid]).not.toContain(fresh.kid);
    expect(ring.keys().filter((k) => k.status === 'active')).toHaveLength(1);
  });

  it('emits reject events (code only) and publishes them on diagnostics_channel', async () => {
    const { subscribe, unsubscribe } = await import('node:diagnostics_channel');
    const ring = await createKeyRing({ algorithm: 'HS256' });
    const seen: unknown[] = [];
    const onMessage = (m: unknown) => seen.push(m);
    subscribe('org:key-rotation:reject', onMessage);
    const codes: string[] = [];
    ring.on('reject', (e) => codes.push(e.code));
    await ring.verify('nope').catch(() => undefined);
    const token = await ring.sign({});
    const dot = token.lastIndexOf('.') + 1;
    const flipped = `${token.slice(0, dot)}${token[dot] === 'A' ? 'B' : 'A'}${token.slice(dot + 1)}`;
    await ring.verify(flipped).catch(() => undefined);
    await ring.verify(token);
    unsubscribe('org:key-rotation:reject', onMessage);
    expect(codes).toEqual([
      'ERR_KEY_ROTATION_JWT_INVALID',
      'ERR_KEY_ROTATION_JWT_SIGNATURE_INVALID',
    ]);
    expect(seen).toEqual([
      { code: 'ERR_KEY_ROTATION_JWT_INVALID' },
      { code: 'ERR_KEY_ROTATION_JWT_SIGNATURE_INVALID' },
    ]);
  });

  it('gracePeriod 0: a rotation ends every token at once', async () => {
    const ring = await createKeyRing({ algorithm: 'HS256', gracePeriod: 0 });
    const token = await ring.sign({}, { expiresIn: '1h' });
    expect(await code(ring.verify(token))).toBe('verified');
    await ring.rotate();
    expect(await code(ring.verify(token))).toBe('ERR_KEY_ROTATION_JWT_KEY_RETIRED');
  });

  it('emits rotate events', async () => {
    const ring = await createKeyRing({ algorithm: 'ES256' });
    const events: unknown[] = [];
    const off = ring.on('rotate', (e) => events.push(e));
    const prev = ring.keys()[0]!.kid;
    const next = await ring.rotate();
    off();
    await ring.rotate();
    expect(events).toEqual([{ kid: next.kid, previousKid: prev }]);
  });

  it('rotate({ ifActiveOlderThan }) rotates only an old key', async () => {
    const clock = manualClock();
    const ring = await createKeyRing({ algorithm: 'HS256', clock });
    const kid = ring.keys()[0]!.kid;
    expect((await ring.rotate({ ifActiveOlderThan: HOUR })).kid).toBe(kid);
    clock.advance(HOUR);
    expect((await ring.rotate({ ifActiveOlderThan: HOUR })).kid).not.toBe(kid);
  });
});

describe('seeds', () => {
  it('fromSecret seeds the first HS256 key; kid is the oct JWK thumbprint', async () => {
    const secret = 'a-legacy-secret-that-is-at-least-32-bytes-long';
    const ring = await createKeyRing({ seed: fromSecret(secret) });
    expect(ring.algorithm).toBe('HS256');
    const kid = ring.keys()[0]!.kid;
    const token = hmacToken(
      { alg: 'HS256', kid },
      { exp: Math.floor(Date.now() / 1000) + 60 },
      secret,
    );
    expect(await code(ring.verify(token))).toBe('verified');
    // Legacy tokens without kid are refused unless asked for.
    const legacy = hmacToken(
      { alg: 'HS256', typ: 'JWT' },
      { exp: Math.floor(Date.now() / 1000) + 60 },
      secret,
    );
    expect(await code(ring.verify(legacy))).toBe('ERR_KEY_ROTATION_JWT_UNKNOWN_KID');
  });

  it('fromSecret(…, { acceptMissingKid }) verifies legacy tokens until that key is retired', async () => {
    const secret = Buffer.alloc(48, 3);
    const clock = manualClock();
    const ring = await createKeyRing({
      seed: fromSecret(secret, { acceptMissingKid: true }),
      clock,
      gracePeriod: '60s',
    });
    const legacy = hmacToken({ alg: 'HS256' }, { exp: Math.floor(clock() / 1000) + 3600 }, secret);
    expect(await code(ring.verify(legacy))).toBe('verified');
    const other = hmacToken(
      { alg: 'HS256' },
      { exp: Math.floor(clock() / 1000) + 3600 },
      Buffer.alloc(48, 4),
    );
    expect(await code(ring.verify(other))).toBe('ERR_KEY_ROTATION_JWT_SIGNATURE_INVALID');
    await ring.rotate();
    expect(await code(ring.verify(legacy))).toBe('verified');
    clock.advance(60_000);
    expect(await code(ring.verify(legacy))).toBe('ERR_KEY_ROTATION_JWT_KEY_RETIRED');
  });

  it('fromSecret refuses short or missing secrets, and a seed of another algorithm', async () => {
    expect(() => fromSecret('short')).toThrow(/at least 32 bytes/);
    expect(() => fromSecret(undefined)).toThrow(/JWT_SECRET_KEY/);
    await expect(
      createKeyRing({ algorithm: 'RS256', seed: fromSecret('x'.repeat(32)) }),
    ).rejects.toSatisfy((e: unknown) => isKeyRotationError(e, 'ERR_KEY_ROTATION_INVALID_OPTION'));
  });

  it('fromPrivateKey seeds an RS256 ring with the PEM the app uses today', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const ring = await createKeyRing({ seed: fromPrivateKey('RS256', pem) });
    expect(ring.jwks().keys[0]!.n).toBe(privateKey.export({ format: 'jwk' }).n);
    expect(() => fromPrivateKey('RS256', 'not a key')).toThrow(/PEM/);
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    await expect(createKeyRing({ seed: fromPrivateKey('RS256', weak) })).rejects.toThrow(/2048/);
  });
});

describe('algorithm migration', () => {
  it('a ring moves from RS256 to EdDSA: old tokens keep their pinned algorithm', async () => {
    const store = createMemoryKeyStore();
    const encryptionKey = Buffer.alloc(32, 2);
    const rs = await createKeyRing({ algorithm: 'RS256', store, encryptionKey });
    const oldToken = await rs.sign({});
    const ed = await createKeyRing({ algorithm: 'EdDSA', store, encryptionKey });
    expect(ed.keys()[0]!.alg).toBe('RS256');
    await ed.rotate();
    const newToken = await ed.sign({});
    expect(decodeHeader(newToken).alg).toBe('EdDSA');
    expect((await ed.verify(oldToken)).key.alg).toBe('RS256');
    await rs.refresh();
    expect((await rs.verify(newToken)).key.alg).toBe('EdDSA');
    expect(
      ed
        .jwks()
        .keys.map((k) => k.alg)
        .sort(),
    ).toEqual(['EdDSA', 'RS256']);
    await rs.close();
    await ed.close();
  });
});
