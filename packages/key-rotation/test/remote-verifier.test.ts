import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createKeyRing, createRemoteVerifier, type KeyRing } from '@org/key-rotation';
import { afterEach, describe, expect, it } from 'vitest';
import { b64, hmacToken, manualClock } from './helpers.js';

interface JwksServer {
  url: string;
  count(): number;
  mode: 'ok' | 'down' | 'hang' | 'garbage' | 'private';
  close(): Promise<void>;
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function serve(ring: KeyRing): Promise<JwksServer> {
  let count = 0;
  const handler = ring.jwksHandler();
  const state: JwksServer = {
    url: '',
    count: () => count,
    mode: 'ok',
    close: async () => undefined,
  };
  const server = createServer((req, res) => {
    count++;
    if (state.mode === 'down') return res.writeHead(503).end();
    if (state.mode === 'hang') return;
    if (state.mode === 'garbage') return res.end('<html>');
    if (state.mode === 'private')
      return res.end(JSON.stringify({ keys: [{ kty: 'oct', k: 'AAAA', kid: 'x' }] }));
    handler(req, res);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  return state;
}

const code = (p: Promise<unknown>) =>
  p.then(
    () => 'verified',
    (e: { code?: string }) => e.code,
  );

describe('createRemoteVerifier', () => {
  it('verifies with a cached JWKS: one fetch for many verifies', async () => {
    const ring = await createKeyRing({ algorithm: 'ES256' });
    const srv = await serve(ring);
    const verifier = createRemoteVerifier(srv.url);
    const token = await ring.sign({ n: 1 }, { subject: 'u' });
    for (let i = 0; i < 50; i++) expect((await verifier.verify(token)).payload.sub).toBe('u');
    expect(srv.count()).toBe(1);
    expect(verifier.kids()).toEqual([ring.keys()[0]!.kid]);
  });

  it('random kids do not cause a fetch storm', async () => {
    const ring = await createKeyRing({ algorithm: 'EdDSA' });
    const srv = await serve(ring);
    const clock = manualClock(Date.now());
    const verifier = createRemoteVerifier(srv.url, { cooldown: 30_000, clock });
    const token = await ring.sign({});
    const [h, p, s] = token.split('.') as [string, string, string];
    const forged = (i: number) => `${b64({ alg: 'EdDSA', kid: `random-${i}` })}.${p}.${s}`;
    const results = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => code(verifier.verify(forged(i)))),
    );
    expect(new Set(results)).toEqual(new Set(['ERR_KEY_ROTATION_JWT_UNKNOWN_KID']));
    expect(srv.count()).toBe(1);
    // After the cooldown, a burst of new random kids costs one fetch, then the negative cache.
    clock.advance(30_001);
    await Promise.all(
      Array.from({ length: 500 }, (_, i) => code(verifier.verify(forged(5000 + i)))),
    );
    expect(srv.count()).toBe(2);
    await Promise.all(
      Array.from({ length: 500 }, (_, i) => code(verifier.verify(forged(9000 + i)))),
    );
    expect(srv.count()).toBe(2);
    expect(await code(verifier.verify(`${h}.${p}.${s}`))).toBe('verified');
  });

  it('a shorter Cache-Control max-age from the endpoint shortens the cache', async () => {
    const ring = await createKeyRing({ algorithm: 'ES256' });
    const srv = await serve(ring); // the ring's handler sends max-age=300
    const clock = manualClock(Date.now());
    const verifier = createRemoteVerifier(srv.url, { cacheTtl: 3_600_000, cooldown: 1000, clock });
    const staged = await ring.stage();
    expect(await code(verifier.verify(await ring.sign({})))).toBe('verified');
    clock.advance(299_000);
    expect(await code(verifier.verify(await ring.sign({})))).toBe('verified');
    expect(srv.count()).toBe(1);
    clock.advance(2_000);
    expect(await code(verifier.verify(await ring.sign({})))).toBe('verified');
    await expect.poll(() => srv.count()).toBe(2);
    expect(verifier.kids()).toContain(staged.kid);
  });

  it('picks up a rotated key with one refetch once the cooldown has passed', async () => {
    const ring = await createKeyRing({ algorithm: 'RS256' });
    const srv = await serve(ring);
    const clock = manualClock(Date.now());
    const verifier = createRemoteVerifier(srv.url, { cooldown: 5000, clock });
    expect(await code(verifier.verify(await ring.sign({})))).toBe('verified');
    await ring.rotate();
    const fresh = await ring.sign({});
    expect(await code(verifier.verify(fresh))).toBe('ERR_KEY_ROTATION_JWT_UNKNOWN_KID');
    clock.advance(5001);
    expect(await code(verifier.verify(fresh))).toBe('verified');
    expect(srv.count()).toBe(2);
  });

  it('keeps the last good JWKS for staleTtl while the endpoint is down, then refuses', async () => {
    const ring = await createKeyRing({ algorithm: 'ES256' });
    const srv = await serve(ring);
    const clock = manualClock(Date.now());
    const verifier = createRemoteVerifier(srv.url, {
      cacheTtl: 60_000,
      staleTtl: 600_000,
      cooldown: 10_000,
      clock,
    });
    const errors: boolean[] = [];
    verifier.on('jwks-error', (e) => errors.push(e.stale));
    const token = await ring.sign({}, { expiresIn: '1d' });
    expect(await code(verifier.verify(token))).toBe('verified');
    srv.mode = 'down';
    clock.advance(61_000);
    const burst = await Promise.all(
      Array.from({ length: 200 }, () => code(verifier.verify(token))),
    );
    expect(new Set(burst)).toEqual(new Set(['verified']));
    await new Promise((r) => setTimeout(r, 50));
    expect(srv.count()).toBe(2);
    expect(errors).toEqual([true]);
    clock.advance(540_000);
    expect(await code(verifier.verify(token))).toBe('verified');
    await new Promise((r) => setTimeout(r, 50));
    expect(srv.count()).toBe(3);
    clock.advance(61_000);
    expect(await code(verifier.verify(token))).toBe('ERR_KEY_ROTATION_JWKS_UNAVAILABLE');
    // The endpoint comes back: the next attempt after the cooldown recovers.
    srv.mode = 'ok';
    expect(await code(verifier.verify(token))).toBe('ERR_KEY_ROTATION_JWKS_UNAVAILABLE');
    clock.advance(10_001);
    expect(await code(verifier.verify(token))).toBe('verified');
  });

  it('bounds a hanging endpoint with its timeout and honours the caller signal', async () => {
    const ring = await createKeyRing({ algorithm: 'ES256' });
    const srv = await serve(ring);
    srv.mode = 'hang';
    const verifier = createRemoteVerifier(srv.url, { timeout: '200ms' });
    const failures: unknown[] = [];
    verifier.on('jwks-error', ({ error }) => failures.push(error.cause));
    const t0 = Date.now();
    expect(await code(verifier.verify(await ring.sign({})))).toBe(
      'ERR_KEY_ROTATION_JWKS_UNAVAILABLE',
    );
    expect(Date.now() - t0).toBeLessThan(2000);
    // The shared fetch failed on its own timeout: core's TimeoutError is the cause.
    expect(failures).toEqual([expect.objectContaining({ code: 'ERR_TIMEOUT', timeoutMs: 200 })]);
    const v2 = createRemoteVerifier(srv.url, { timeout: '5s' });
    const err = await v2
      .verify(await ring.sign({}), { signal: AbortSignal.timeout(50) })
      .catch((e: Error) => e);
    expect((err as Error).name).toBe('TimeoutError');
    expect(err).toMatchObject({ code: 'ERR_TIMEOUT' });
    const controller = new AbortController();
    const aborted = v2.verify(await ring.sign({}), { signal: controller.signal });
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'ERR_ABORTED', name: 'AbortedError' });
    // close() ends the request under way.
    await v2.close();
    await v2.close();
  });

  it('refuses malformed or secret-bearing JWKS documents', async () => {
    const ring = await createKeyRing({ algorithm: 'ES256' });
    const srv = await serve(ring);
    srv.mode = 'garbage';
    expect(await code(createRemoteVerifier(srv.url).verify(await ring.sign({})))).toBe(
      'ERR_KEY_ROTATION_JWKS_INVALID',
    );
    srv.mode = 'private';
    expect(await code(createRemoteVerifier(srv.url).verify(await ring.sign({})))).toBe(
      'ERR_KEY_ROTATION_JWKS_INVALID',
    );
  });

  it('pins the JWKS key algorithm: HS256 over the public key is refused', async () => {
    const ring = await createKeyRing({ algorithm: 'RS256' });
    const srv = await serve(ring);
    const verifier = createRemoteVerifier(srv.url);
    const rejects: string[] = [];
    verifier.on('reject', (e) => rejects.push(e.code));
    const jwk = ring.jwks().keys[0]!;
    const token = hmacToken(
      { alg: 'HS256', kid: jwk.kid },
      { exp: Math.floor(Date.now() / 1000) + 60 },
      JSON.stringify(jwk),
    );
    expect(await code(verifier.verify(token))).toBe('ERR_KEY_ROTATION_JWT_INVALID');
    expect(await code(verifier.verify('x'.repeat(10_000)))).toBe('ERR_KEY_ROTATION_JWT_TOO_LARGE');
    expect(srv.count()).toBe(1);
    expect(rejects).toEqual(['ERR_KEY_ROTATION_JWT_INVALID', 'ERR_KEY_ROTATION_JWT_TOO_LARGE']);
  });

  it('stops reading a JWKS past maxJwksBytes, with or without a content-length', async () => {
    const ring = await createKeyRing({ algorithm: 'ES256' });
    const body = JSON.stringify({ keys: ring.jwks().keys, pad: 'x'.repeat(5000) });
    for (const chunked of [false, true]) {
      const server = createServer((_req, res) => {
        if (chunked) {
          res.write(body.slice(0, 10));
          res.end(body.slice(10));
        } else res.end(body);
      });
      servers.push(server);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
      const token = await ring.sign({});
      expect(await code(createRemoteVerifier(url, { maxJwksBytes: 1000 }).verify(token))).toBe(
        'ERR_KEY_ROTATION_JWKS_UNAVAILABLE',
      );
      expect(await code(createRemoteVerifier(url).verify(token))).toBe('verified');
    }
  });

  it('refuses a jwksUrl that is not an absolute http(s) URL', () => {
    for (const bad of ['/jwks.json', 'file:///etc/passwd', 'not a url']) {
      expect(() => createRemoteVerifier(bad)).toThrow(
        expect.objectContaining({ code: 'ERR_KEY_ROTATION_INVALID_OPTION' }),
      );
    }
  });

  it('limits accepted algorithms', async () => {
    const ring = await createKeyRing({ algorithm: 'EdDSA' });
    const srv = await serve(ring);
    const verifier = createRemoteVerifier(srv.url, { algorithms: ['ES256'] });
    expect(await code(verifier.verify(await ring.sign({})))).toBe(
      'ERR_KEY_ROTATION_JWT_UNKNOWN_KID',
    );
  });
});

describe('jwksHandler', () => {
  it('serves the JWKS with cache headers, an ETag and 304', async () => {
    const ring = await createKeyRing({ algorithm: 'ES256' });
    const srv = await serve(ring);
    const res = await fetch(srv.url);
    expect(res.headers.get('content-type')).toBe('application/jwk-set+json');
    expect(res.headers.get('cache-control')).toBe('public, max-age=300, stale-if-error=86400');
    const etag = res.headers.get('etag')!;
    expect(((await res.json()) as { keys: unknown[] }).keys).toHaveLength(1);
    expect((await fetch(srv.url, { headers: { 'if-none-match': etag } })).status).toBe(304);
    await ring.stage();
    expect((await fetch(srv.url, { headers: { 'if-none-match': etag } })).status).toBe(200);
    const post = await fetch(srv.url, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    // A 4xx says what is wrong: not an empty body.
    expect(await post.json()).toEqual({
      error: 'method not allowed: the JWKS answers GET and HEAD',
    });
  });

  it('jwksResponse answers web requests the same way', async () => {
    const ring = await createKeyRing({ algorithm: 'EdDSA' });
    const res = ring.jwksResponse(new Request('http://x/.well-known/jwks.json'));
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=300, stale-if-error=86400');
    const body = (await res.json()) as { keys: { kid: string; d?: string }[] };
    expect(body.keys.map((k) => k.kid)).toEqual([ring.keys()[0]!.kid]);
    expect(body.keys[0]!.d).toBeUndefined();
    const etag = res.headers.get('etag')!;
    const again = new Request('http://x/', { headers: { 'if-none-match': etag } });
    expect(ring.jwksResponse(again).status).toBe(304);
    const deleted = ring.jwksResponse(new Request('http://x/', { method: 'DELETE' }));
    expect(deleted.status).toBe(405);
    expect(deleted.headers.get('allow')).toBe('GET, HEAD');
    expect(((await deleted.json()) as { error: string }).error).toContain('GET and HEAD');
    expect(ring.jwksResponse(undefined, { maxAge: '60s' }).headers.get('cache-control')).toMatch(
      /max-age=60,/,
    );
    // 300 is milliseconds now: under a second, so refused rather than sent as max-age=0.
    expect(() => ring.jwksHandler({ maxAge: 300 })).toThrow(
      expect.objectContaining({ code: 'ERR_KEY_ROTATION_INVALID_OPTION' }),
    );
    expect(ring.jwksResponse(undefined, { maxAge: 0 }).headers.get('cache-control')).toMatch(
      /max-age=0,/,
    );
  });

  it('takes third-party JWKS: kid of any form, alg inferred, enc keys and odd keys skipped', async () => {
    const { generateKeyPairSync, sign } = await import('node:crypto');
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const ed = generateKeyPairSync('ed25519');
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const doc = {
      keys: [
        { ...ec.publicKey.export({ format: 'jwk' }), kid: 'ec-1' },
        { ...ed.publicKey.export({ format: 'jwk' }), kid: 'ed-1', use: 'enc' },
        { ...ed.publicKey.export({ format: 'jwk' }), kid: 'ed-2', alg: 'Ed25519' },
        { ...p384.publicKey.export({ format: 'jwk' }), kid: 'p384' },
        { kty: 'RSA', kid: 'broken', n: 'AQAB', e: 'AQAB' },
        'not a key',
      ],
    };
    const server = createServer((_req, res) => res.end(JSON.stringify(doc)));
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
    const verifier = createRemoteVerifier(url);
    const input = `${b64({ alg: 'ES256', kid: 'ec-1' })}.${b64({ exp: Math.floor(Date.now() / 1000) + 60 })}`;
    const sig = sign('sha256', Buffer.from(input), {
      key: ec.privateKey,
      dsaEncoding: 'ieee-p1363',
    });
    const result = await verifier.verify(`${input}.${sig.toString('base64url')}`);
    expect(result.key).toEqual({ kid: 'ec-1', alg: 'ES256' });
    expect(verifier.kids()).toEqual(['ec-1', 'ed-2']);
    // RFC 9864 names Ed25519 signatures `Ed25519`; an Ed25519 key takes them as EdDSA.
    for (const alg of ['Ed25519', 'EdDSA']) {
      const edInput = `${b64({ alg, kid: 'ed-2' })}.${b64({ exp: Math.floor(Date.now() / 1000) + 60 })}`;
      const edSig = sign(null, Buffer.from(edInput), ed.privateKey).toString('base64url');
      expect((await verifier.verify(`${edInput}.${edSig}`)).key.alg).toBe('EdDSA');
    }
    const wrong = `${b64({ alg: 'ES256', kid: 'ed-2' })}.${b64({ exp: Math.floor(Date.now() / 1000) + 60 })}`;
    expect(await code(verifier.verify(`${wrong}.${'A'.repeat(86)}`))).toBe(
      'ERR_KEY_ROTATION_JWT_INVALID',
    );
  });
});

describe('secrets stay out of errors', () => {
  it('no error message or property carries the token, the secret or key material', async () => {
    const { fromSecret, createKeyRing: make } = await import('@org/key-rotation');
    const secret = 'S'.repeat(40);
    const ring = await make({ seed: fromSecret(secret), issuer: 'me' });
    const token = await ring.sign({}, { issuer: 'other' });
    const [h, p, s] = token.split('.') as [string, string, string];
    const attempts = [
      token,
      `${h}.${p}.${s.slice(0, -2)}AA`,
      `${h}.${p}`,
      `${h}.${p}.${s}`.replace(h, b64({ alg: 'none' })),
    ];
    for (const t of attempts) {
      const err = await ring.verify(t).catch((e: Error) => e);
      const text =
        JSON.stringify({ m: (err as Error).message, ...(err as object) }) +
        String((err as Error).stack);
      for (const needle of [secret, s, p, Buffer.from(secret).toString('base64url')]) {
        expect(text).not.toContain(needle);
      }
    }
  });
});
