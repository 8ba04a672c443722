import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createKeyRing, createRemoteVerifier, type KeyRing } from '@org/key-rotation';
import { type OtelHarness, startOtel } from '@org/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

let otel: OtelHarness;
const servers: Server[] = [];
beforeEach(() => {
  otel = startOtel(); // after @org/key-rotation was imported: late registration
});
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  await otel.close();
});

async function serve(ring: KeyRing, status = () => 200): Promise<string> {
  const handler = ring.jwksHandler();
  const server = createServer((req, res) => {
    const s = status();
    if (s !== 200) return res.writeHead(s).end();
    handler(req, res);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json?token=hunter2`;
}

const VERIFIES = 'org.key_rotation.verifies';

describe('key-rotation telemetry', () => {
  it('counts signs, verifies by outcome (failures by code) and rotations of the ring', async () => {
    const ring = await createKeyRing({ algorithm: 'ES256' });
    const token = await ring.sign({ n: 1 }, { subject: 'user-42' });
    await ring.sign({ n: 2 });
    await ring.verify(token);
    await ring.verify(`${token.slice(0, -4)}AAAA`).catch(() => undefined);
    await ring.verify(token, { audience: 'other' }).catch(() => undefined);
    await ring.rotate();
    await ring.rotate();
    expect(
      await otel.sum('org.key_rotation.signs', { 'org.key_rotation.outcome': 'success' }),
    ).toBe(2);
    const ok = { 'org.key_rotation.verifier': 'ring', 'org.key_rotation.outcome': 'success' };
    expect(await otel.sum(VERIFIES, ok)).toBe(1);
    const failures = await otel.points(VERIFIES, { 'org.key_rotation.outcome': 'failure' });
    expect(failures.map((p) => [p.attributes['error.type'], p.value]).sort()).toEqual([
      ['ERR_KEY_ROTATION_JWT_CLAIM_INVALID', 1],
      ['ERR_KEY_ROTATION_JWT_SIGNATURE_INVALID', 1],
    ]);
    expect(await otel.sum('org.key_rotation.rotations')).toBe(2);
    for (const p of await otel.collect())
      expect(JSON.stringify(p.attributes)).not.toContain('user-42');
    await ring.close();
  });

  it('counts a sign that fails by its code', async () => {
    const ring = await createKeyRing({ algorithm: 'ES256' });
    await ring.sign({}, { expiresIn: -5 } as never).catch(() => undefined);
    const [failed] = await otel.points('org.key_rotation.signs', {
      'org.key_rotation.outcome': 'failure',
    });
    expect(String(failed?.attributes['error.type'])).toMatch(/^ERR_KEY_ROTATION_/);
    await ring.close();
  });

  it('records the remote verifier’s JWKS fetches as client spans under the caller’s span, with counts and durations', async () => {
    const ring = await createKeyRing({ algorithm: 'ES256' });
    let status = 200;
    const url = await serve(ring, () => status);
    const verifier = createRemoteVerifier(url, { cooldown: 0 });
    const token = await ring.sign({});
    const requestId = await otel.inSpan('request', () => verifier.verify(token));
    await verifier.verify(token);
    status = 503;
    await verifier.refresh().catch(() => undefined);

    const fetches = 'org.key_rotation.jwks.fetches';
    expect(
      await otel.sum(fetches, {
        'org.key_rotation.jwks.reason': 'initial',
        'org.key_rotation.outcome': 'success',
      }),
    ).toBe(1);
    expect(
      await otel.sum(fetches, {
        'org.key_rotation.jwks.reason': 'manual',
        'error.type': 'ERR_KEY_ROTATION_JWKS_UNAVAILABLE',
      }),
    ).toBe(1);
    expect(await otel.sum('org.key_rotation.jwks.fetch.duration')).toBe(2);
    const ok = { 'org.key_rotation.verifier': 'remote', 'org.key_rotation.outcome': 'success' };
    expect(await otel.sum(VERIFIES, ok)).toBe(2);

    const spans = otel.spans('org.key_rotation.jwks.fetch');
    expect(spans).toHaveLength(2);
    const [first, failed] = spans;
    expect(first?.parentSpanContext?.spanId).toBe(requestId);
    expect(first?.kind).toBe(2); // CLIENT
    expect(first?.attributes).toMatchObject({
      'http.request.method': 'GET',
      'server.address': '127.0.0.1',
      'http.response.status_code': 200,
      'url.full': url.replace('?token=hunter2', ''),
    });
    expect(JSON.stringify(first?.attributes)).not.toContain('hunter2');
    expect(failed?.attributes).toMatchObject({
      'http.response.status_code': 503,
      'error.type': 'ERR_KEY_ROTATION_JWKS_UNAVAILABLE',
    });
    expect(failed?.status.code).toBe(2);
    await verifier.close();
    await ring.close();
  });
});
