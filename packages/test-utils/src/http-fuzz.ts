import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import fc, { type Arbitrary } from 'fast-check';
import { expect } from 'vitest';

/** Raw bytes on loopback; resolves the first line of the answer ('' if none), bounded in time. */
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
/** Mostly printable (what reaches a handler), sometimes raw bytes (what Node's parser refuses). */
export const fuzzJunk = fc.oneof(
  { arbitrary: printable, weight: 4 },
  { arbitrary: binary, weight: 1 },
);
const pick = <T>(...xs: T[]) => fc.constantFrom(...xs);

/** What one handler under fuzz is: made once the server's port is known. */
export interface FuzzTarget {
  /** The handler; what it throws or rejects with is collected and fails the run. */
  listener: (req: IncomingMessage, res: ServerResponse) => unknown;
  /** Request targets the handler answers for real; the fuzz mutates them. */
  valid: readonly string[];
  /** Releases what the handler holds. */
  close?: () => Promise<unknown> | unknown;
}

/** Options of {@link fuzzHttpHandler}. */
export interface HttpFuzzOptions {
  /** Makes the handler, given the port it is served on. */
  setup: (port: number) => Promise<FuzzTarget> | FuzzTarget;
  /** Odd targets of this handler beside the shared ones (`http://:99999/`, `//`, `*` …). */
  oddTargets?: readonly string[];
  /** Prefixes that junk is appended to (encoded) as a target. */
  prefixes: readonly string[];
  /** Headers of this handler beside the shared ones (Content-Length, Transfer-Encoding …). */
  headers: readonly Arbitrary<[string, string]>[];
  /** Statuses the handler itself must have answered at least once. */
  statuses: readonly string[];
  /** Seed and count of the sampled requests. @default 13, 2000 */
  seed?: number;
  numRuns?: number;
}

/**
 * Sends thousands of seeded malformed requests (targets, methods, headers, bodies) to a handler
 * on loopback, 50 at a time, and asserts: nothing thrown out of the listener or uncaught, every
 * answer a status line and none a 5xx, each expected status seen, and RSS flat (under 64 MiB of
 * growth after the first quarter).
 */
export async function fuzzHttpHandler(options: HttpFuzzOptions): Promise<void> {
  const thrown: unknown[] = [];
  let handler: FuzzTarget | undefined;
  const server = createServer((req, res) => {
    try {
      const result = handler?.listener(req, res);
      if (result instanceof Promise) {
        result.catch((err: unknown) => {
          thrown.push(err);
          res.destroy();
        });
      }
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
    handler = await options.setup(port);
    const valid = handler.valid;
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
        ...(options.oddTargets ?? []),
      ),
      fc
        .tuple(pick(...valid), fc.nat(200), fuzzJunk)
        .map(([v, i, s]) => v.slice(0, i % v.length) + s + v.slice(i % v.length)),
      fc.tuple(pick(...options.prefixes), fuzzJunk).map(([a, b]) => a + encodeURI(b)),
    );
    const header = fc.oneof(
      ...options.headers,
      fc.tuple(pick('Content-Length'), pick('abc', '-1', '99999999999', '5', '0', '1, 2')),
      fc.tuple(pick('Transfer-Encoding'), pick('chunked', 'gzip', 'chunked, chunked')),
      fc.tuple(pick('X-Junk', 'A'), printable),
      fc.tuple(binary, binary),
    );
    const request = fc.record({
      method: fc.oneof(
        { arbitrary: pick('GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'OPTIONS'), weight: 6 },
        { arbitrary: fuzzJunk, weight: 1 },
      ),
      target: fc.oneof({ arbitrary: pick(...valid), weight: 2 }, { arbitrary: target, weight: 3 }),
      headers: fc.array(header, { maxLength: 4 }),
      // Bytes after a bodiless request are a second, pipelined request, which Node's parser
      // answers itself: most cases send none, so that the handler's answers are what is seen.
      body: fc.oneof(
        { arbitrary: fc.constant(''), weight: 4 },
        { arbitrary: fuzzJunk, weight: 1 },
        { arbitrary: pick('5\r\nhello\r\n0\r\n\r\n', 'zz\r\n', 'x'.repeat(5000)), weight: 1 },
      ),
    });
    const cases = fc.sample(request, {
      numRuns: options.numRuns ?? 2000,
      seed: options.seed ?? 13,
    });

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
    for (const status of options.statuses) {
      expect(stats.get(status) ?? 0, status).toBeGreaterThan(0);
    }
    const warm = rss[Math.floor(rss.length / 4)]!;
    expect(rss.at(-1)! - warm).toBeLessThan(64 * 1024 * 1024);
  } finally {
    process.off('uncaughtException', onUncaught);
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await handler?.close?.();
  }
}
