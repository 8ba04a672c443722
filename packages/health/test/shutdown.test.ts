import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { isAbortedError, isTimeoutError } from '@org/core';
import { createHealth } from '@org/health';
import { describe, expect, it } from 'vitest';
import { listen, sleep } from './helpers.js';

function get(url: string, agent?: Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, agent ? { agent } : {}, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

describe('graceful shutdown', () => {
  it('fails readiness first, drains in-flight requests, then runs closers', async () => {
    const log: string[] = [];
    const health = createHealth({
      checks: { db: () => undefined },
      shutdownDelay: 150,
      drainTimeout: 3_000,
    });
    const probes = health.handler();
    const srv = await listen((req, res) => {
      if (req.url === '/slow') {
        setTimeout(() => res.end('done'), 400);
        return;
      }
      probes(req, res);
    });
    health.attach(srv.server);
    health.on('state', (e) => log.push(`state ${e.to}`));
    health.onShutdown(async () => {
      await sleep(20);
      log.push('closer 1');
    });
    health.onShutdown(() => {
      log.push('closer 2');
    });

    const agent = new Agent({ keepAlive: true });
    const inFlight = Array.from({ length: 5 }, () =>
      get(`${srv.url}/slow`, agent).then((r) => {
        log.push('request done');
        return r;
      }),
    );
    await sleep(50);
    const t0 = performance.now();
    const done = health.shutdown();
    // Readiness and the LB probe fail at once, while the server still accepts.
    expect((await get(`${srv.url}/readyz`)).status).toBe(503);
    expect((await get(`${srv.url}/health`)).status).toBe(503);
    expect((await get(`${srv.url}/livez`)).status).toBe(200);
    expect(await done).toBe(true);
    const took = performance.now() - t0;
    const results = await Promise.all(inFlight);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(results.every((r) => r.body === 'done')).toBe(true);
    expect(took).toBeGreaterThanOrEqual(340);
    expect(took).toBeLessThan(2_000);
    expect(log).toEqual([
      'state draining',
      ...Array(5).fill('request done'),
      'closer 1',
      'closer 2',
      'state stopped',
    ]);
    expect(srv.server.listening).toBe(false);
    await expect(get(`${srv.url}/livez`)).rejects.toThrow(/ECONNREFUSED/);
    agent.destroy();
  });

  it('forces connections closed after drainTimeout, reports it, and still runs closers', async () => {
    const health = createHealth({
      checks: { db: () => undefined },
      shutdownDelay: 0,
      drainTimeout: 200,
    });
    const srv = await listen((_req, res) => {
      setTimeout(() => res.end('late'), 5_000).unref();
    });
    health.attach(srv.server);
    const errors: string[] = [];
    health.on('shutdownError', (e) => errors.push(e.phase));
    let closed = false;
    health.onShutdown(() => {
      closed = true;
    });
    health.onShutdown(() => {
      throw new Error('pool close failed password=abc');
    });
    const reasons: string[] = [];
    health.on('shutdownError', (e) => reasons.push(e.reason));
    const stuck = get(`${srv.url}/stuck`).catch((err: Error) => err.message);
    await sleep(50);
    const t0 = performance.now();
    expect(await health.shutdown()).toBe(false);
    expect(performance.now() - t0).toBeLessThan(1_000);
    expect(await stuck).toMatch(/socket hang up|ECONNRESET/);
    expect(closed).toBe(true);
    expect(errors).toEqual(['drain', 'closer']);
    expect(reasons[1]).toBe('pool close failed password=***');
    // a second call shares the first run
    expect(await health.shutdown()).toBe(false);
  });

  it('bounds each closer by closerTimeout: its signal aborts with a TimeoutError', async () => {
    const health = createHealth({
      checks: { db: () => undefined },
      shutdownDelay: 0,
      closerTimeout: '100ms',
    });
    let seen: unknown;
    health.onShutdown(
      (signal) =>
        new Promise<void>(() => {
          signal.addEventListener('abort', () => {
            seen = signal.reason;
          });
        }),
    );
    let after = false;
    health.onShutdown(() => {
      after = true;
    });
    const reasons: string[] = [];
    health.on('shutdownError', (e) => reasons.push(`${e.phase}: ${e.reason}`));
    const t0 = performance.now();
    expect(await health.shutdown()).toBe(false);
    expect(performance.now() - t0).toBeLessThan(1_000);
    expect(isTimeoutError(seen) && seen.timeoutMs).toBe(100);
    expect(after).toBe(true);
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatch(/^closer: .*closer timed out after 100 ms.*closerTimeout/);
    expect(health.state).toBe('stopped');
  });

  it("a caller's signal stops only its wait for shutdown", async () => {
    const health = createHealth({ checks: { db: () => undefined }, shutdownDelay: '200ms' });
    let closed = false;
    health.onShutdown(() => {
      closed = true;
    });
    const ac = new AbortController();
    const mine = health.shutdown({ signal: ac.signal });
    ac.abort();
    expect(isAbortedError(await mine.catch((e: unknown) => e))).toBe(true);
    expect(await health.shutdown()).toBe(true);
    expect(closed).toBe(true);
  });

  it('close() removes the signal handlers and releases what checks hold, once', async () => {
    const before = process.listenerCount('SIGTERM');
    let released = 0;
    const health = createHealth({
      checks: {
        db: () => undefined,
        held: {
          check: () => undefined,
          close: () => {
            released++;
          },
        },
        broken: {
          check: () => undefined,
          close: () => {
            throw new Error('close bug');
          },
        },
      },
      handleSignals: ['SIGTERM'],
    });
    expect(process.listenerCount('SIGTERM')).toBe(before + 1);
    await health.close();
    await health.close();
    expect(process.listenerCount('SIGTERM')).toBe(before);
    expect(released).toBe(1);
    // close() releases only: no shutdown, the lifecycle is untouched
    expect(health.state).toBe('ready');
  });

  it('on SIGTERM (handleSignals) drains an in-flight request and exits 0', async () => {
    const dist = process.env.ORG_TEST_DIST === '1';
    const entry = join(import.meta.dirname, dist ? '../dist/index.js' : '../src/index.ts');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'fixtures/signal-server.ts')],
      { env: { ...process.env, HEALTH_ENTRY: entry }, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.setEncoding('utf8');
    const port = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no port: ${out}`)), 15_000);
      child.stdout.on('data', (c: string) => {
        out += c;
        const m = /port (\d+)/.exec(out);
        if (m?.[1]) {
          clearTimeout(t);
          resolve(m[1]);
        }
      });
    });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const slow = get(`http://127.0.0.1:${port}/slow`);
    await sleep(50);
    child.kill('SIGTERM');
    await sleep(30);
    expect((await get(`http://127.0.0.1:${port}/readyz`)).status).toBe(503);
    expect(await slow).toEqual({ status: 200, body: 'done' });
    expect(await exited).toBe(0);
    expect(out).toContain('closer ran');
  });
});
