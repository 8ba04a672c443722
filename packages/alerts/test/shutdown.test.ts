import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { alertsShutdown, createAlerts, isAlertsError } from '@org/alerts';
import { isAbortedError, isTimeoutError } from '@org/core';
import { createHealth } from '@org/health';
import { type SentrySink, startSentrySink } from '@org/test-utils';
import { afterEach, describe, expect, it } from 'vitest';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function sink(): Promise<SentrySink> {
  const s = await startSentrySink();
  cleanups.push(() => s.close());
  return s;
}

/** A Sentry stand-in that reads each envelope and never answers: ingest hanging. */
async function hangingIngest(): Promise<{ dsn: string; received: () => number }> {
  let received = 0;
  const server: Server = createServer((req) => {
    req.resume();
    req.on('end', () => received++);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  const { port } = server.address() as AddressInfo;
  return { dsn: `http://publickey@127.0.0.1:${port}/1`, received: () => received };
}

const messages = (s: SentrySink) =>
  s.envelopes.flatMap((e) =>
    e.items.map((i) => (i.payload as { exception?: { values?: { value?: string }[] } }).exception),
  );

describe('alertsShutdown: alerts in @org/health graceful shutdown', () => {
  it('events captured just before shutdown reach Sentry before shutdown resolves', async () => {
    const s = await sink();
    const alerts = createAlerts({ dsn: s.dsn, throttle: false });
    const health = createHealth({ checks: {}, shutdownDelay: 0, drainTimeout: 1_000 });
    cleanups.push(() => health.close());
    health.onShutdown(alertsShutdown(alerts, { timeout: '3s' }));

    for (let i = 0; i < 20; i++) alerts.captureException(new Error(`deploy check ${i} failed`));
    expect(alerts.queued).toBeGreaterThan(0);
    expect(s.envelopes.length).toBeLessThan(20);
    expect(await health.shutdown()).toBe(true);

    // Counted the moment shutdown resolved: every event had arrived, none after.
    expect(s.envelopes.length).toBe(20);
    const values = messages(s).map((e) => e?.values?.[0]?.value);
    expect(values).toEqual(
      expect.arrayContaining(['deploy check 0 failed', 'deploy check 19 failed']),
    );
    // And the instance is closed: nothing more is accepted.
    expect(alerts.captureException(new Error('after'))).toBe(false);
  });

  it('with Sentry hanging, the closer gives up at its signal and shutdown ends within its bound', async () => {
    const ingest = await hangingIngest();
    // The request timeout is longer than the whole shutdown: only the closer's signal ends it.
    const alerts = createAlerts({ dsn: ingest.dsn, timeout: '60s', throttle: false });
    const closerTimeout = 300;
    const health = createHealth({
      checks: {},
      shutdownDelay: 0,
      drainTimeout: 200,
      closerTimeout,
    });
    cleanups.push(() => health.close());
    const failures: { phase: string; reason: string }[] = [];
    health.on('shutdownError', (e) => failures.push(e));
    const ran: string[] = [];
    health.onShutdown(alertsShutdown(alerts, { timeout: '30s' }));
    health.onShutdown(() => void ran.push('next closer'));

    for (let i = 0; i < 5; i++) alerts.captureException(new Error(`late failure ${i}`));
    const t0 = performance.now();
    const clean = await health.shutdown();
    const took = performance.now() - t0;

    expect(clean).toBe(false);
    expect(took).toBeGreaterThanOrEqual(closerTimeout - 5);
    expect(took).toBeLessThan(closerTimeout + 700);
    expect(failures).toEqual([
      { phase: 'closer', reason: expect.stringMatching(/timed out|300/i) },
    ]);
    expect(ran).toEqual(['next closer']); // the closers after it still ran
    expect(ingest.received()).toBeGreaterThan(0); // it was sending, and Sentry hung
    // The closer's run closed the instance once its signal aborted.
    await new Promise((r) => setTimeout(r, 50));
    expect(alerts.queued).toBe(0);
    expect(alerts.captureException(new Error('after'))).toBe(false);
  });

  it('called on its own, it rejects with AbortedError at its signal and closes the instance', async () => {
    const ingest = await hangingIngest();
    const alerts = createAlerts({ dsn: ingest.dsn, timeout: '60s', throttle: false });
    alerts.captureException(new Error('queued'));
    const closer = alertsShutdown(alerts);
    const t0 = performance.now();
    const deadline = new AbortController();
    setTimeout(() => deadline.abort(new Error('closer deadline')), 150);
    const err = await closer(deadline.signal).catch((e: unknown) => e);
    expect(isAbortedError(err)).toBe(true);
    expect(performance.now() - t0).toBeLessThan(1_000);
    expect(alerts.queued).toBe(0);
    // A second call shares the finished run (flush rejected at the same signal).
    await expect(closer()).rejects.toSatisfy(isAbortedError);
  });

  it('past its own timeout it rejects with TimeoutError carrying the bound', async () => {
    const ingest = await hangingIngest();
    const alerts = createAlerts({ dsn: ingest.dsn, timeout: '60s', throttle: false });
    alerts.captureException(new Error('queued'));
    const err = await alertsShutdown(alerts, { timeout: 100 })().catch((e: unknown) => e);
    expect(isTimeoutError(err)).toBe(true);
    expect((err as { timeoutMs: number }).timeoutMs).toBe(100);
  });

  it('an empty queue closes at once; a signal already aborted still closes', async () => {
    const s = await sink();
    const a = createAlerts({ dsn: s.dsn });
    await alertsShutdown(a)(new AbortController().signal);
    expect(a.captureException(new Error('x'))).toBe(false);

    const b = createAlerts({ dsn: s.dsn });
    b.captureException(new Error('never sent'));
    const aborted = AbortSignal.abort(new Error('deadline'));
    await expect(alertsShutdown(b)(aborted)).rejects.toSatisfy(isAbortedError);
    expect(b.captureException(new Error('y'))).toBe(false);
  });

  it('validates what it is given', () => {
    for (const bad of [undefined, null, {}, { flush: () => undefined }, 'alerts']) {
      expect(() => alertsShutdown(bad as never)).toThrow(
        expect.objectContaining({ code: 'ERR_ALERTS_INVALID_OPTION' }),
      );
    }
    const a = createAlerts({ log: () => undefined });
    cleanups.push(() => a.close());
    expect(() => alertsShutdown(a, null as never)).toThrow(
      expect.objectContaining({ code: 'ERR_ALERTS_INVALID_OPTION' }),
    );
    const err = (() => {
      try {
        alertsShutdown(a, { timeout: '-1s' as never });
      } catch (e) {
        return e;
      }
    })();
    expect(isAlertsError(err, 'ERR_ALERTS_INVALID_OPTION')).toBe(true);
  });
});
