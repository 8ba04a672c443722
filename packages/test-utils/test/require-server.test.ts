import { afterEach, describe, expect, it, vi } from 'vitest';
import { freePort, serverAvailable, startRedisServer } from '../src/index.js';

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('serverAvailable', () => {
  it('skips with a message naming the server outside CI', async () => {
    vi.stubEnv('CI', '');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const port = await freePort();
    await expect(serverAvailable('Nothing', port)).resolves.toBe(false);
    expect(warn).toHaveBeenCalledWith(
      expect.stringContaining(`[skip] Nothing is not reachable at 127.0.0.1:${port}`),
    );
    warn.mockRestore();
  });

  it('fails in CI, never skips', async () => {
    vi.stubEnv('CI', 'true');
    const port = await freePort();
    await expect(serverAvailable('Nothing', port)).rejects.toThrow(/CI needs it/);
  });
});

describe('startRedisServer', () => {
  it('starts a server of its own that can be frozen, killed and restarted', async () => {
    const server = await startRedisServer();
    try {
      const { Socket } = await import('node:net');
      const ping = () =>
        new Promise<string>((resolve, reject) => {
          const s = new Socket();
          s.setTimeout(300, () => {
            s.destroy();
            resolve('timeout');
          });
          s.once('error', reject);
          s.connect(server.port, '127.0.0.1', () => s.write('PING\r\n'));
          s.once('data', (d) => {
            s.destroy();
            resolve(d.toString().trim());
          });
        });
      expect(await ping()).toBe('+PONG');
      server.pause();
      expect(await ping()).toBe('timeout');
      server.resume();
      expect(await ping()).toBe('+PONG');
      await server.kill();
      await expect(ping()).rejects.toThrow(/ECONNREFUSED/);
      await server.restart();
      expect(await ping()).toBe('+PONG');
    } finally {
      await server.stop();
    }
  });
});
