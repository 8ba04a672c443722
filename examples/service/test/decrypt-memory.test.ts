import { createHash } from 'node:crypto';
import { Fernet, generateKey } from '@org/backup-crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { type ServiceProcess, spawnService } from './support/spawn-service.js';

// Six maximum-size tokens at once, all admitted: the service's peak RSS grows by the streams'
// buffers, not by the tokens (held whole, six of them took the process to 850-970 MiB).
const MAX_TOKEN_BYTES = 64 * 1024 * 1024;
const MiB = 1024 * 1024;
let service: ServiceProcess | undefined;
afterAll(() => service?.stop());

async function sha256Of(res: Response): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) hash.update(chunk);
  return hash.digest('hex');
}

describe.skipIf(process.platform !== 'linux')('decrypt memory (VmHWM of the process)', () => {
  it('six concurrent 64 MiB tokens: byte-exact, and peak RSS grows by less than 160 MiB', async () => {
    const key = generateKey();
    const plain = Buffer.alloc(Math.floor((MAX_TOKEN_BYTES / 4) * 3) - 96, 'pg_dump line\n');
    const token = Buffer.from(new Fernet(key).encrypt(plain));
    expect(token.length).toBeLessThanOrEqual(MAX_TOKEN_BYTES);
    expect(token.length).toBeGreaterThan(MAX_TOKEN_BYTES - 256);
    const want = createHash('sha256').update(plain).digest('hex');

    service = await spawnService({ BACKUP_ENCRYPTION_KEY: key, DECRYPT_CONCURRENCY: '6' });
    const idle = service.peakRss();
    const base = service.base;
    const answers = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const res = await fetch(`${base}/backup-crypto/decrypt`, { method: 'POST', body: token });
        return { status: res.status, sha256: await sha256Of(res) };
      }),
    );
    const growth = service.peakRss() - idle;
    expect(answers).toEqual(Array(6).fill({ status: 200, sha256: want }));
    expect(growth / MiB).toBeLessThan(160);
  }, 120_000);
});
