import { createServer } from 'node:http';
import { createJwksHandler, createKeyRing, jwksResponse } from '@org/key-rotation';
import { describe, expect, it } from 'vitest';
import { manualClock } from './helpers.js';

const code = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: { code?: string }) => e.code,
  );

describe('sign() and maxTokenBytes', () => {
  it('refuses to sign a token its own verifier would refuse as too large', async () => {
    const ring = await createKeyRing({ algorithm: 'HS256', maxTokenBytes: 1024 });
    expect(await code(ring.sign({ blob: 'x'.repeat(2000) }))).toBe(
      'ERR_KEY_ROTATION_JWT_TOO_LARGE',
    );
    // Just under the limit still signs, and verifies.
    const token = await ring.sign({ blob: 'x'.repeat(600) });
    expect(token.length).toBeLessThanOrEqual(1024);
    expect(await code(ring.verify(token))).toBe('ok');
  });
});

describe('If-None-Match on the JWKS (RFC 9110 §13.1.2)', () => {
  const jwks = { keys: [] };
  const etagOf = () => jwksResponse(jwks).headers.get('etag')!;

  it('jwksResponse(): weak comparison, lists, and `*` answer 304', () => {
    const etag = etagOf();
    for (const inm of [etag, `W/${etag}`, `"other", W/${etag}`, '*', ` W/${etag} `]) {
      const res = jwksResponse(
        jwks,
        new Request('http://127.0.0.1/', { headers: { 'if-none-match': inm } }),
      );
      expect(res.status, inm).toBe(304);
    }
    for (const inm of ['"other"', 'W/"other"', etag.slice(1, -1)]) {
      const res = jwksResponse(
        jwks,
        new Request('http://127.0.0.1/', { headers: { 'if-none-match': inm } }),
      );
      expect(res.status, inm).toBe(200);
    }
  });

  it('the JWKS handler: weak comparison and `*` answer 304, over loopback', async () => {
    const handler = createJwksHandler(() => jwks);
    const server = createServer((req, res) => handler(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
    try {
      const etag = etagOf();
      for (const inm of [etag, `W/${etag}`, `"a", W/${etag}`, '*']) {
        const res = await fetch(url, { headers: { 'if-none-match': inm } });
        expect(res.status, inm).toBe(304);
      }
      const miss = await fetch(url, { headers: { 'if-none-match': 'W/"nope"' } });
      expect(miss.status).toBe(200);
      await miss.arrayBuffer();
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('verify-only keys are bounded', () => {
  it('keeps at most maxVerifyOnlyKeys (default 10); the newest stay, older ones are retired', async () => {
    const clock = manualClock();
    const ring = await createKeyRing({ algorithm: 'HS256', clock });
    for (let i = 0; i < 30; i++) await ring.rotate();
    const verifyOnly = ring.keys().filter((k) => k.status === 'verify-only');
    expect(verifyOnly.length).toBe(10);

    const small = await createKeyRing({ algorithm: 'HS256', clock, maxVerifyOnlyKeys: 2 });
    const first = await small.sign({});
    await small.rotate();
    const second = await small.sign({});
    await small.rotate();
    const third = await small.sign({});
    await small.rotate();
    expect(small.keys().filter((k) => k.status === 'verify-only').length).toBe(2);
    expect(await code(small.verify(first))).toBe('ERR_KEY_ROTATION_JWT_KEY_RETIRED');
    expect(await code(small.verify(second))).toBe('ok');
    expect(await code(small.verify(third))).toBe('ok');
    expect(await code(createKeyRing({ maxVerifyOnlyKeys: -1 }))).toBe(
      'ERR_KEY_ROTATION_INVALID_OPTION',
    );
  });
});
