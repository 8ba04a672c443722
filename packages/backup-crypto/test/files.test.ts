import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  decryptFile,
  encryptFile,
  Fernet,
  FernetErrorCode,
  generateKey,
  rotateFile,
} from '@org/backup-crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failure } from './helpers/failure.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'backup-crypto-files-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe.each([false, true])('files (chunked: %s)', (chunked) => {
  const key = generateKey();
  const data = randomBytes(3 * 1024 * 1024 + 17);
  const opts = { chunked, chunkSize: 1024 * 1024 };

  it('round-trips a file and reports progress up to its size', async () => {
    const src = join(dir, `plain-${chunked}`);
    await writeFile(src, data);
    let last = 0;
    await encryptFile(src, `${src}.enc`, key, { ...opts, onProgress: (n) => (last = n) });
    expect(last).toBe(data.length);
    await decryptFile(`${src}.enc`, `${src}.out`, key, opts);
    expect((await readFile(`${src}.out`)).equals(data)).toBe(true);
    if (!chunked) {
      const token = await readFile(`${src}.enc`, 'latin1');
      expect(new Fernet(key).decrypt(token).equals(data)).toBe(true);
    }
  });

  it('leaves no output and no temporary file when decryption fails', async () => {
    const sub = await mkdtemp(join(dir, 'fail-'));
    const src = join(sub, 'plain');
    await writeFile(src, data);
    await encryptFile(src, `${src}.enc`, key, opts);
    const enc = await readFile(`${src}.enc`);
    // Flip one character near the end: only the final MAC (or last chunk) can notice.
    const at = enc.length - 60;
    enc[at] = enc[at] === 0x41 ? 0x42 : 0x41;
    await writeFile(`${src}.bad`, enc);
    expect(await failure(decryptFile(`${src}.bad`, join(sub, 'out'), key, opts))).toBe(
      FernetErrorCode.InvalidToken,
    );
    expect(await failure(decryptFile(`${src}.enc`, join(sub, 'out'), generateKey(), opts))).toBe(
      FernetErrorCode.InvalidToken,
    );
    // An existing destination stays as it was.
    await writeFile(join(sub, 'keep'), 'previous');
    expect(await failure(decryptFile(`${src}.bad`, join(sub, 'keep'), key, opts))).toBe(
      FernetErrorCode.InvalidToken,
    );
    expect(await readFile(join(sub, 'keep'), 'utf8')).toBe('previous');
    expect((await readdir(sub)).sort()).toEqual(['keep', 'plain', 'plain.bad', 'plain.enc']);
  });

  it('decrypts with any of several keys and rotates to the first', async () => {
    const [current, old] = [generateKey(), generateKey()];
    const src = join(dir, `rot-${chunked}`);
    await writeFile(src, data.subarray(0, 100_000));
    await encryptFile(src, `${src}.old`, old, opts);
    await decryptFile(`${src}.old`, `${src}.dec`, [current, old], opts);
    expect((await readFile(`${src}.dec`)).equals(data.subarray(0, 100_000))).toBe(true);
    await rotateFile(`${src}.old`, `${src}.new`, [current, old], opts);
    await decryptFile(`${src}.new`, `${src}.dec2`, current, opts);
    expect((await readFile(`${src}.dec2`)).equals(data.subarray(0, 100_000))).toBe(true);
    expect(await failure(decryptFile(`${src}.new`, `${src}.x`, old, opts))).toBe(
      FernetErrorCode.InvalidToken,
    );
    expect(await failure(rotateFile(`${src}.old`, `${src}.y`, [current], opts))).toBe(
      FernetErrorCode.InvalidToken,
    );
  });

  it('stops on abort and leaves nothing behind', async () => {
    const sub = await mkdtemp(join(dir, 'abort-'));
    await writeFile(join(sub, 'plain'), data);
    const ac = new AbortController();
    ac.abort();
    const err = await encryptFile(join(sub, 'plain'), join(sub, 'enc'), key, {
      ...opts,
      signal: ac.signal,
    }).catch((e: Error) => e);
    expect((err as Error).name).toBe('AbortError');
    expect(await readdir(sub)).toEqual(['plain']);
  });
});

it('keeps the timestamp of a single-token backup when rotating', async () => {
  const [current, old] = [generateKey(), generateKey()];
  const src = join(dir, 'ts');
  await writeFile(src, new Fernet(old).encrypt('dump', { timestamp: 1_500_000_000 }));
  await rotateFile(src, `${src}.new`, [current, old]);
  const token = await readFile(`${src}.new`, 'latin1');
  expect(new Fernet(current).extractTimestamp(token)).toBe(1_500_000_000);
});
