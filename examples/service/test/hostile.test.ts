import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createService } from '../src/server.js';

// What an outsider sends: request targets that are no URL, bodies that are no JSON, a forged
// Host header. The service answers each with a status and stays up.
let port = 0;
let close: () => Promise<void>;
beforeAll(async () => {
  delete process.env.REDIS_URL;
  const service = await createService({ shutdownDelay: 0, drainTimeout: 1_000 });
  await new Promise<void>((r) => service.server.listen(0, '127.0.0.1', r));
  port = (service.server.address() as AddressInfo).port;
  close = service.close;
});
afterAll(async () => {
  await close();
});

/** Sends `raw` on a socket and returns the status line of the answer. */
function rawStatus(raw: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(raw));
    let text = '';
    socket.setTimeout(5_000, () => socket.destroy(new Error('no answer within 5 s')));
    socket.on('data', (d) => {
      text += d.toString('latin1');
      if (text.includes('\r\n')) {
        resolve(text.slice(0, text.indexOf('\r\n')));
        socket.destroy();
      }
    });
    socket.on('error', reject);
  });
}

const post = (path: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', body, headers });

describe('hostile requests to the example service', () => {
  it.each(['http://:99999/', 'http://[::1/', '//'])(
    'a request target %s that is no URL is a 400, and the server stays up',
    async (target) => {
      expect(await rawStatus(`GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`)).toMatch(
        /^HTTP\/1\.1 (400|404)/,
      );
      expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(200);
    },
  );

  it('a body that is no JSON object gets 400, a huge one 413, not a token', async () => {
    expect((await post('/auth/token', 'not json')).status).toBe(400);
    expect((await post('/auth/token', '[1,2]')).status).toBe(400);
    expect((await post('/auth/token', JSON.stringify({ sub: 'x'.repeat(20_000) }))).status).toBe(
      413,
    );
  });

  it('a UTF-8 character split across two chunks is decoded whole', async () => {
    const bytes = Buffer.from(JSON.stringify({ sub: 'zoë-€' }));
    const cut = bytes.indexOf(Buffer.from('€')) + 1; // inside the 3-byte character
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.subarray(0, cut));
        controller.enqueue(bytes.subarray(cut));
        controller.close();
      },
    });
    const res = await fetch(`http://127.0.0.1:${port}/auth/token`, {
      method: 'POST',
      body: stream,
      duplex: 'half',
    } as RequestInit);
    const { access_token } = (await res.json()) as { access_token: string };
    const me = await fetch(`http://127.0.0.1:${port}/auth/me`, {
      headers: { authorization: `Bearer ${access_token}` },
    });
    expect(((await me.json()) as { sub: string }).sub).toBe('zoë-€');
  });

  it('a forged Host header does not choose whose JWKS the remote verifier trusts', async () => {
    const { access_token } = (await (
      await post('/auth/token', JSON.stringify({ sub: 'host-test' }))
    ).json()) as { access_token: string };
    // A first request with a forged Host would, if the Host were used, pin an attacker's JWKS.
    const forged = await rawStatus(
      `GET /auth/me/remote HTTP/1.1\r\nHost: attacker.invalid:1\r\nAuthorization: Bearer ${access_token}\r\nConnection: close\r\n\r\n`,
    );
    expect(forged).toMatch(/^HTTP\/1\.1 200/);
    const again = await fetch(`http://127.0.0.1:${port}/auth/me/remote`, {
      headers: { authorization: `Bearer ${access_token}` },
    });
    expect(again.status).toBe(200);
  });

  it('rotation is for an admin only', async () => {
    expect((await post('/auth/rotate', '')).status).toBe(403);
  });
});
