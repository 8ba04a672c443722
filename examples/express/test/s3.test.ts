import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, type Started, startApp, upload } from './start-app.js';

// With AWS_S3_BUCKET set, files go to S3 (here moto_server, an S3 of the test's own), with no
// change to the code: uploads, downloads, the size limit, and links presigned by S3 itself.
const dir = resolve(import.meta.dirname, '..');
const hasMoto = (() => {
  try {
    execFileSync('sh', ['-c', 'command -v moto_server'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!hasMoto && process.env.CI === 'true') {
  throw new Error('moto_server is not on the PATH; CI needs it');
}
if (!hasMoto) console.warn('s3.test.ts skipped: moto_server is not on the PATH');

let moto: ReturnType<typeof spawn> | undefined;
let app: Started;

beforeAll(async () => {
  if (!hasMoto) return;
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  moto = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: 'ignore',
    detached: true, // its own process group: moto_server may run python as a child
  });
  const deadline = Date.now() + 15_000;
  for (;;) {
    const ok = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1_000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error('moto_server did not come up within 15 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  expect((await fetch(`${endpoint}/example-files`, { method: 'PUT' })).status).toBe(200);
  const start = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).scripts.start;
  app = await startApp(dir, start, {
    AWS_S3_BUCKET: 'example-files',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    S3_ENDPOINT: endpoint,
    SHUTDOWN_DELAY: '100ms',
  });
}, 30_000);
afterAll(async () => {
  await app?.kill();
  if (moto?.pid !== undefined) process.kill(-moto.pid, 'SIGKILL');
});

describe.skipIf(!hasMoto)('the Express example with AWS_S3_BUCKET set', () => {
  it('stores files in S3, serves them back, and hands out links S3 signed', async () => {
    const put = await fetch(`${app.base}/files/s3.txt`, {
      method: 'PUT',
      headers: { 'content-type': 'text/plain' },
      body: 'kept in S3',
    });
    expect(put.status).toBe(201);
    expect(await (await fetch(`${app.base}/files/s3.txt`)).text()).toBe('kept in S3');
    const { url } = (await (await fetch(`${app.base}/files/s3.txt/link`)).json()) as {
      url: string;
    };
    expect(url).toContain('X-Amz-Signature=');
    expect(await (await fetch(url)).text()).toBe('kept in S3');
    const full = await (await fetch(`${app.base}/health/full`)).json();
    expect(full).toMatchObject({
      checks: { storage: { status: 'ok', details: { backend: 's3' } } },
    });
  });

  it('the size limit holds for S3 too, and nothing is left behind', async () => {
    const chunks = Array.from({ length: 20 }, () => Buffer.alloc(64 * 1024, 'z'));
    expect(await upload(app.base, '/files/big.bin', chunks, { chunked: true })).toBe(413);
    expect((await fetch(`${app.base}/files/big.bin`)).status).toBe(404);
  });

  it('shuts down cleanly on SIGTERM', async () => {
    app.child.kill('SIGTERM');
    expect(await app.exited).toEqual({ code: 0, signal: null });
  });
});
