import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Socket, type Server as TcpServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { type Alerts, createAlerts } from '@org/alerts';
import { type SentrySink, startSentrySink } from '@org/test-utils';
import { afterEach, describe, expect, it } from 'vitest';

// The heap is measured after a full collection: without one, garbage not yet collected counts as
// kept and the bound below reads whatever the collector had not reached (the worker runs
// without --expose-gc, so the function is taken from a fresh context once the flag is set).
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

/** Median and max of `n` calls to `fn`, in microseconds. */
function timeCalls(n: number, fn: (i: number) => void): { medianUs: number; maxUs: number } {
  const t: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    fn(i);
    t.push((performance.now() - s) * 1000);
  }
  t.sort((a, b) => a - b);
  return { medianUs: t[Math.floor(n / 2)]!, maxUs: t[n - 1]! };
}

function listen(server: Server | TcpServer): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : 0);
    }),
  );
}

async function sink(): Promise<SentrySink> {
  const s = await startSentrySink();
  closers.push(() => s.close());
  return s;
}

function track(a: Alerts): Alerts {
  closers.push(() => a.close());
  return a;
}

const distinct = (i: number) =>
  new Error(`failure kind ${String.fromCharCode(65 + (i % 26))}${Math.floor(i / 26)}x`);

describe('Sentry down, hanging or answering 429', () => {
  it('down (503): captures return in microseconds, and events queued before the outage arrive after it', async () => {
    const s = await sink();
    s.respondWith(503);
    const alerts = track(
      createAlerts({ dsn: s.dsn, throttle: false, queue: { max: 50, maxBackoff: '100ms' } }),
    );
    const cost = timeCalls(20, (i) => alerts.captureException(distinct(i)));
    expect(cost.medianUs).toBeLessThan(200);
    await new Promise((r) => setTimeout(r, 300)); // a few failed attempts
    expect(s.envelopes).toHaveLength(0);
    expect(alerts.queued).toBe(20);
    s.respondWith(200);
    await alerts.flush('3s');
    expect(s.envelopes).toHaveLength(20);
  });

  it('drop policy: a full queue drops the new event, and the count rides on the next one sent', async () => {
    const s = await sink();
    s.respondWith(503);
    const alerts = track(
      createAlerts({ dsn: s.dsn, throttle: false, queue: { max: 2, maxBackoff: '50ms' } }),
    );
    const results = ['a', 'b', 'c', 'd', 'e'].map((m) => alerts.captureException(new Error(m)));
    expect(results).toEqual([true, true, false, false, false]);
    s.respondWith(200);
    await alerts.flush('2s');
    alerts.captureException(new Error('f'));
    await alerts.flush('2s');
    const got = s.envelopes.map(
      (e) =>
        e.items[0]!.payload as {
          exception: { values: { value: string }[] };
          extra?: { droppedBefore?: number };
        },
    );
    expect(got.map((e) => [e.exception.values[0]!.value, e.extra?.droppedBefore])).toEqual([
      ['a', undefined],
      ['b', undefined],
      ['f', 3],
    ]);
  });

  it('unreachable (connection refused): nothing thrown, the queue holds its bound', async () => {
    const probe = createTcpServer();
    const port = await listen(probe);
    await new Promise<void>((r) => probe.close(() => r()));
    const alerts = track(
      createAlerts({
        dsn: `http://key@127.0.0.1:${port}/1`,
        throttle: false,
        queue: { max: 100, maxBackoff: '50ms' },
      }),
    );
    let dropped = 0;
    alerts.on('dropped', (e) => {
      dropped += e.count;
    });
    const cost = timeCalls(5_000, (i) => alerts.captureException(distinct(i)));
    expect(cost.medianUs).toBeLessThan(100);
    expect(alerts.queued).toBeLessThanOrEqual(100);
    expect(dropped).toBe(4_900);
    await expect(alerts.flush('200ms')).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
  });

  it('hanging: each request is cut at `timeout`, memory stays within the queue bound', async () => {
    const sockets = new Set<Socket>();
    const hang = createTcpServer((sock) => {
      sockets.add(sock);
      sock.on('error', () => {});
    });
    const port = await listen(hang);
    closers.push(
      () =>
        new Promise<void>((r) => {
          for (const so of sockets) so.destroy();
          hang.close(() => r());
        }),
    );
    const alerts = track(
      createAlerts({
        dsn: `http://key@127.0.0.1:${port}/1`,
        throttle: false,
        timeout: '100ms',
        queue: { max: 200 },
      }),
    );
    const failures: number[] = [];
    alerts.on('sendFailed', (e) => failures.push(e.retryInMs));
    collect();
    const before = process.memoryUsage().heapUsed;
    const cost = timeCalls(100_000, (i) =>
      alerts.captureException(distinct(i), { data: { blob: 'x'.repeat(1_000) } }),
    );
    expect(cost.medianUs).toBeLessThan(100);
    await new Promise((r) => setTimeout(r, 250));
    collect();
    const grownMb = (process.memoryUsage().heapUsed - before) / 2 ** 20;
    expect(alerts.queued).toBe(200);
    // 100,000 errors with a 1 kB payload would be >100 MB if kept; the bound holds 200.
    expect(grownMb).toBeLessThan(40);
    expect(failures.length).toBeGreaterThanOrEqual(1); // the 100 ms timeout cut the request
  });

  it('429: Retry-After is honoured, then the queue is delivered in order', async () => {
    const received: { at: number; body: string }[] = [];
    let first = true;
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString();
      });
      req.on('end', () => {
        if (first) {
          first = false;
          res.writeHead(429, { 'retry-after': '1' }).end();
          received.push({ at: performance.now(), body: '429' });
          return;
        }
        received.push({ at: performance.now(), body });
        res.writeHead(200).end('{}');
      });
    });
    const port = await listen(server);
    closers.push(() => new Promise<void>((r) => server.close(() => r())));
    const alerts = track(createAlerts({ dsn: `http://key@127.0.0.1:${port}/1`, throttle: false }));
    let failed = 0;
    alerts.on('sendFailed', (e) => {
      failed++;
      expect(e.statusCode).toBe(429);
      expect(e.retryInMs).toBe(1_000);
    });
    for (let i = 0; i < 3; i++) alerts.captureException(new Error(`n${'x'.repeat(i)}`));
    await alerts.flush('5s');
    expect(failed).toBe(1);
    expect(received).toHaveLength(4);
    expect(received[1]!.at - received[0]!.at).toBeGreaterThanOrEqual(950);
    expect(received.slice(1).map((r) => /"value":"(nx*)"/.exec(r.body)?.[1])).toEqual([
      'n',
      'nx',
      'nxx',
    ]);
  });
});

describe('429 with X-Sentry-Rate-Limits', () => {
  it('pauses for the error category as the header says (Retry-After absent)', async () => {
    const at: number[] = [];
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        at.push(performance.now());
        if (at.length === 1)
          res.writeHead(429, { 'x-sentry-rate-limits': '1:error:organization' }).end();
        else res.writeHead(200).end('{}');
      });
    });
    const port = await listen(server);
    closers.push(() => new Promise<void>((r) => server.close(() => r())));
    const alerts = track(createAlerts({ dsn: `http://key@127.0.0.1:${port}/1` }));
    const retry: number[] = [];
    alerts.on('sendFailed', (e) => retry.push(e.retryInMs));
    alerts.captureException(new Error('limited'));
    await alerts.flush('5s');
    expect(retry).toEqual([1_000]);
    expect(at).toHaveLength(2);
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(950);
  });
});

describe('close()', () => {
  it('aborts a request in flight to a hanging ingest and is idempotent', async () => {
    const sockets = new Set<Socket>();
    const hang = createTcpServer((sock) => {
      sockets.add(sock);
      sock.resume(); // read the request, never answer (an unread socket never sees its end)
      sock.on('error', () => {});
    });
    const port = await listen(hang);
    closers.push(
      () =>
        new Promise<void>((r) => {
          for (const so of sockets) so.destroy();
          hang.close(() => r());
        }),
    );
    const alerts = createAlerts({ dsn: `http://key@127.0.0.1:${port}/1`, timeout: '1h' });
    alerts.captureException(new Error('stuck'));
    await new Promise((r) => setTimeout(r, 100));
    expect(sockets.size).toBe(1);
    const closed = new Promise((r) => [...sockets][0]!.on('close', r));
    const t = performance.now();
    await alerts.close();
    await alerts.close();
    await closed; // the request's socket was released by close()
    expect(performance.now() - t).toBeLessThan(1000);
  });
});
