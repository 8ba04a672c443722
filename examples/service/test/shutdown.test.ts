import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { type ServiceProcess, spawnService } from './support/spawn-service.js';

// The service as deployed: a child process, stopped by a signal. Short bounds keep it quick.
const SHUTDOWN_DELAY = 300;
const DRAIN_TIMEOUT = 1_500;
const CLOSER_TIMEOUT = 1_000;
const SLACK = 2_000;
const env = {
  SHUTDOWN_DELAY: String(SHUTDOWN_DELAY),
  DRAIN_TIMEOUT: String(DRAIN_TIMEOUT),
  CLOSER_TIMEOUT: String(CLOSER_TIMEOUT),
};

let service: ServiceProcess | undefined;
afterEach(async () => {
  await service?.stop();
  service = undefined;
});

/** An upload of one byte a second that never ends, as a slow or hostile client sends it. */
function tricklingUpload(base: string): { closed: Promise<string>; stop: () => void } {
  const req = request(`${base}/storage/uploads?key=slow/upload.bin`, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream', 'content-length': '100000' },
  });
  const timer = setInterval(() => req.write('x'), 1_000);
  req.write('x');
  const closed = new Promise<string>((resolve) => {
    req.on('response', (res) => {
      res.resume();
      resolve(`answered ${res.statusCode}`);
    });
    req.on('error', (err) => resolve(`closed (${(err as NodeJS.ErrnoException).code})`));
    req.on('close', () => resolve('closed'));
  });
  void closed.finally(() => clearInterval(timer));
  return {
    closed,
    stop: () => {
      clearInterval(timer);
      req.destroy();
    },
  };
}

describe('graceful shutdown of the service process', () => {
  it('SIGTERM with a 1-byte/s upload open: exits within its bounds; a request in flight is answered', async () => {
    service = await spawnService(env);
    const { base } = service;
    // A request that takes ~800 ms: in flight when draining starts, done well within the bound.
    await fetch(`${base}/upstream/chaos?failRate=0&delayMs=800`, { method: 'POST' });
    const upload = tricklingUpload(base);
    try {
      await new Promise((r) => setTimeout(r, 300));
      const inFlight = fetch(`${base}/upstream`)
        .then(async (res) => ({
          status: res.status,
          body: (await res.json()) as { result: { answer: number | null } },
        }))
        .catch((err: unknown) => ({ status: 0, body: { result: { answer: null } }, err }));
      await new Promise((r) => setTimeout(r, 100));

      const t0 = performance.now();
      service.child.kill('SIGTERM');
      // Readiness fails as soon as the signal lands, while the server still answers.
      let ready = 0;
      while (performance.now() - t0 < SHUTDOWN_DELAY) {
        ready = (await fetch(`${base}/readyz`)).status;
        if (ready === 503) break;
      }
      expect(ready).toBe(503);

      const answered = await inFlight;
      expect(answered.status).toBe(200);
      expect(answered.body.result.answer).toBe(42);

      const exit = await service.exited;
      const took = exit.at - t0;
      // The upload held the drain to its bound, and no further.
      expect(took).toBeGreaterThanOrEqual(SHUTDOWN_DELAY + DRAIN_TIMEOUT - 50);
      expect(took).toBeLessThan(SHUTDOWN_DELAY + DRAIN_TIMEOUT + CLOSER_TIMEOUT + SLACK);
      // Draining hit its bound: the process says so with code 1.
      expect(exit).toMatchObject({ code: 1, signal: null });
      expect(await upload.closed).toMatch(/^closed/);
      expect(service.output()).toMatch(/outlived drainTimeout/);
    } finally {
      upload.stop();
    }
  }, 30_000);

  it('SIGINT with nothing in flight: exits clean (code 0) after the delay, every package closed', async () => {
    service = await spawnService(env);
    const t0 = performance.now();
    service.child.kill('SIGINT');
    const exit = await service.exited;
    const took = exit.at - t0;
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(took).toBeGreaterThanOrEqual(SHUTDOWN_DELAY - 50);
    expect(took).toBeLessThan(SHUTDOWN_DELAY + CLOSER_TIMEOUT + SLACK);
    expect(service.output()).toMatch(/stopped/);
    expect(service.output()).not.toMatch(/shutdown closer/);
  }, 30_000);
});
