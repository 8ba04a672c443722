// Peak RSS (VmHWM) of the example service while it answers six concurrent `POST
// /backup-crypto/decrypt` requests, each a token of the route's maximum size (64 MiB of text).
// Run from examples/service: `npx tsx --conditions=@org/source bench/decrypt-rss.ts`.
import { Fernet, generateKey } from '@org/backup-crypto';
import { spawnService } from '../test/support/spawn-service.js';

const MAX_TOKEN_BYTES = 64 * 1024 * 1024;
const CONCURRENT = 6;
const MiB = 1024 * 1024;

const key = generateKey();
// The largest plaintext whose token stays within the limit: 4/3 base64 growth, 73 bytes of
// version, timestamp, IV, MAC and padding.
const plain = Buffer.alloc(Math.floor((MAX_TOKEN_BYTES / 4) * 3) - 96, 'pg_dump line\n');
const token = Buffer.from(new Fernet(key).encrypt(plain));
if (token.length > MAX_TOKEN_BYTES) throw new Error('the token outgrew the limit');

const service = await spawnService({
  BACKUP_ENCRYPTION_KEY: key,
  ...(process.env.DECRYPT_CONCURRENCY
    ? { DECRYPT_CONCURRENCY: process.env.DECRYPT_CONCURRENCY }
    : {}),
});
try {
  const idle = service.peakRss();
  const started = performance.now();
  const answers = await Promise.all(
    Array.from({ length: CONCURRENT }, async () => {
      const res = await fetch(`${service.base}/backup-crypto/decrypt`, {
        method: 'POST',
        body: token,
      });
      const body = Buffer.from(await res.arrayBuffer());
      return { status: res.status, ok: res.status === 200 && body.equals(plain) };
    }),
  );
  const took = performance.now() - started;
  const peak = service.peakRss();
  const statuses = answers.map((a) => a.status).join(',');
  console.log(
    `token ${(token.length / MiB).toFixed(1)} MiB x${CONCURRENT}: statuses ${statuses}; ` +
      `byte-exact ${answers.filter((a) => a.ok).length}/${CONCURRENT}; ` +
      `VmHWM idle ${(idle / MiB).toFixed(0)} MiB, peak ${(peak / MiB).toFixed(0)} MiB; ` +
      `${(took / 1000).toFixed(1)} s`,
  );
} finally {
  await service.stop();
}
