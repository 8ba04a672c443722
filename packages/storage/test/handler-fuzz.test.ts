import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStorage } from '@org/storage';
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

describe('signed-URL handler under malformed requests', () => {
  it('never throws out of the listener; answers each with a status line; memory stays flat', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'org-storage-fuzz-'));
    const thrown: unknown[] = [];
    let handler: ReturnType<ReturnType<typeof createStorage>['handler']> | undefined;
    const server = createServer((req, res) => {
      handler?.(req, res).catch((err: unknown) => {
        thrown.push(err);
        res.destroy();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const storage = createStorage({
      local: {
        root: dir,
        fsync: false,
        signing: { secret: 'f'.repeat(32), baseUrl: `http://127.0.0.1:${port}/signed` },
      },
    });
    handler = storage.handler({ maxUploadBytes: 4096 });
    try {
      await storage.put('obj.txt', '0123456789', { contentType: 'text/html' });
      const get = new URL(await storage.signedUrl('obj.txt'));
      const put = new URL(await storage.signedUrl('up.bin', { method: 'PUT', contentType: 'a/b' }));
      const valid = [`${get.pathname}${get.search}`, `${put.pathname}${put.search}`];

      const target = fc.oneof(
        pick(...valid),
        pick('http://:99999/', 'http://[::1/', '//', '*', '/signed/%', '/signed/%E0%A4%A', '/'),
        fc
          .tuple(pick(...valid), fc.nat(200), junk)
          .map(([v, i, s]) => v.slice(0, i % v.length) + s + v.slice(i % v.length)),
        fc
          .tuple(pick('/signed/', 'http://127.0.0.1/signed/', '/x/'), junk)
          .map(([a, b]) => a + encodeURI(b)),
      );
      const header = fc.oneof(
        fc.tuple(
          pick('Range', 'range'),
          fc.oneof(
            pick(
              'bytes=5-2',
              'bytes=-',
              'bytes=--1',
              'bytes=-0',
              'bytes=99999999999999999999-',
              `bytes=${'0-0,'.repeat(500)}`,
              'bytes=0-1,5-2',
              'bits=0-1',
              'bytes = 1-2',
              'bytes=1-2-3',
            ),
            junk,
          ),
        ),
        fc.tuple(pick('Content-Type'), fc.oneof(pick('a/b', 'text/html', ''), junk)),
        fc.tuple(pick('Content-Length'), pick('abc', '-1', '99999999999', '5', '0', '1, 2')),
        fc.tuple(pick('Transfer-Encoding'), pick('chunked', 'gzip', 'chunked, chunked')),
        fc.tuple(pick('If-None-Match', 'If-Range', 'Expect'), junk),
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
        // Bytes after a bodiless request are a second, pipelined request, which Node's parser
        // answers itself: most cases send none, so that the handler's answers are what is seen.
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
      // The fuzz reached the handler's own answers, not only Node's parser.
      for (const status of ['200', '206', '403', '404', '405', '416']) {
        expect(stats.get(status) ?? 0, status).toBeGreaterThan(0);
      }
      const warm = rss[Math.floor(rss.length / 4)]!;
      expect(rss.at(-1)! - warm).toBeLessThan(64 * 1024 * 1024);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
