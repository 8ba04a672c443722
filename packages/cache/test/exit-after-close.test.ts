import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** A loopback port nobody listens on (taken, then released). */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('close() with an unreachable Redis', () => {
  it('leaves nothing that keeps the process alive: it exits within 500 ms of close()', async () => {
    const port = await deadPort();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'fixtures/dead-redis.ts'), String(port)],
      { cwd: join(import.meta.dirname, '..'), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let closedAt: number | undefined;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      if (d.includes('closedAt')) closedAt = performance.now();
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    const exitedAt = performance.now();
    clearTimeout(killer);
    expect(code).toBe(0);
    expect(closedAt).toBeDefined();
    expect(exitedAt - (closedAt ?? 0)).toBeLessThan(500);
  }, 30_000);
});
