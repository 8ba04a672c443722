import { createServer } from 'node:http';
import { connect } from 'node:net';
import { createKeyRing } from '@org/key-rotation';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

/** Sends raw bytes on loopback; resolves the first line of the answer ('' if none), bounded in time. */
function send(port: number, bytes: Buffer): Promise<string> {
  return new Promise((resolve) => {
    let reply = '';
    // The write end stays open a moment: a client that half-closes at once may get no answer.
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(bytes);
      setTimeout(() => socket.end(), 300).unref();
    });
    socket.setTimeout(5000, () => socket.destroy());
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      reply += d;
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve(reply.split('\r\n')[0] ?? ''));
  });
}

const binary = fc.string({ unit: 'binary', maxLength: 40 });
const printable = fc.string({ maxLength: 40 });
// Mostly printable (what reaches the handler), sometimes raw bytes (what Node's parser refuses).
const junk = fc.oneof({ arbitrary: printable, weight: 4 }, { arbitrary: binary, weight: 1 });
const pick = <T>(...xs: T[]) => fc.constantFrom(...xs);

describe('JWKS handler under malformed requests', () => {
  it('never throws out of the listener; answers each with a status line; memory stays flat', async () => {
    const thrown: unknown[] = [];
    const ring = await createKeyRing({ algorithm: 'HS256' });
    const listener = ring.jwksHandler();
    const server = createServer((req, res) => {
      try {
        listener(req, res);
      } catch (err) {
        thrown.push(err);
        res.destroy();
      }
    });
    server.on('error', (err) => thrown.push(err));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const onUncaught = (err: unknown) => thrown.push(err);
    process.on('uncaughtException', onUncaught);
    try {
      const valid = ['/.well-known/jwks.json', '/jwks?x=1'];
      const target = fc.oneof(
        pick(...valid),
        pick(
          'http://:99999/',
          'http://[::1/',
          '//',
          '*',
          '/%',
          '/%E0%A4%A',
          '/',
          '/health?format=%zz',
        ),
        fc
          .tuple(pick(...valid), fc.nat(200), junk)
          .map(([v, i, s]) => v.slice(0, i % v.length) + s + v.slice(i % v.length)),
        fc.tuple(pick('/', 'http://127.0.0.1/', '//x/'), junk).map(([a, b]) => a + encodeURI(b)),
      );
      const header = fc.oneof(
        fc.tuple(
          pick('Accept', 'accept'),
          fc.oneof(
            pick('application/health+json', 'application/json', '*/*', 'text/html;q=0', ''),
            junk,
          ),
        ),
        fc.tuple(pick('If-None-Match'), fc.oneof(pick('*', 'W/"x"', '"x", W/"y"', 'W/'), junk)),
        fc.tuple(pick('Content-Length'), pick('abc', '-1', '99999999999', '5', '0', '1, 2')),
        fc.tuple(pick('Transfer-Encoding'), pick('chunked', 'gzip', 'chunked, chunked')),
        fc.tuple(pick('X-Junk', 'A'), printable),
        fc.tuple(binary, binary),
      );
      const request = fc.record({
        method: fc.oneof(
          { arbitrary: pick('GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'OPTIONS'), weight: 6 },
          { arbitrary: junk, weight: 1 },
        ),
        target: fc.oneof(
          { arbitrary: pick(...valid), weight: 2 },
          { arbitrary: target, weight: 3 },
        ),
        headers: fc.array(header, { maxLength: 4 }),
        body: fc.oneof(
          { arbitrary: fc.constant(''), weight: 4 },
          { arbitrary: junk, weight: 1 },
          { arbitrary: pick('5\r\nhello\r\n0\r\n\r\n', 'zz\r\n', 'x'.repeat(5000)), weight: 1 },
        ),
      });
      const cases = fc.sample(request, { numRuns: 2000, seed: 13 });

      const rss: number[] = [];
      const stats = new Map<string, number>();
      for (let i = 0; i < cases.length; i += 50) {
        const batch = cases.slice(i, i + 50).map(({ method, target: t, headers, body }) => {
          const lines = headers.map(([k, v]) => `${k}: ${v}`).join('\r\n');
          return Buffer.from(
            `${method} ${t} HTTP/1.1\r\nHost: 127.0.0.1\r\n${lines}${lines ? '\r\n' : ''}Connection: close\r\n\r\n${body}`,
            'latin1',
          );
        });
        const replies = await Promise.all(batch.map((b) => send(port, b)));
        for (const [j, line] of replies.entries()) {
          const c = cases[i + j]!;
          // Node may drop a connection whose bytes it cannot parse at all: that is no answer
          // from the handler, and not a crash.
          const status = line.slice(9, 12) || 'none';
          stats.set(status, (stats.get(status) ?? 0) + 1);
          if (line === '') continue;
          expect(line, JSON.stringify(c)).toMatch(/^HTTP\/1\.1 \d{3} /);
          expect(line, JSON.stringify(c)).not.toMatch(/^HTTP\/1\.1 5\d\d /);
        }
        rss.push(process.memoryUsage().rss);
      }
      expect(thrown).toEqual([]);
      for (const status of ['200', '304', '405']) {
        expect(stats.get(status) ?? 0, status).toBeGreaterThan(0);
      }
    } finally {
      process.off('uncaughtException', onUncaught);
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await ring.close();
    }
  }, 120_000);
});
