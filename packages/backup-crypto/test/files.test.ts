import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  decryptFile,
  encryptFile,
  Fernet,
  FernetErrorCode,
  type FileOptions,
  generateKey,
  rotateFile,
} from '@org/backup-crypto';
import {
  type AbortedError,
  CoreErrorCode,
  isAbortedError,
  isOrgError,
  isTimeoutError,
  type TimeoutError,
} from '@org/core';
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
    let total = 0;
    await encryptFile(src, `${src}.enc`, key, {
      ...opts,
      onProgress: ({ bytesRead, totalBytes }) => {
        last = bytesRead;
        total = totalBytes;
      },
    });
    expect(last).toBe(data.length);
    expect(total).toBe(data.length);
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

  it('stops on abort with core AbortedError and leaves nothing behind', async () => {
    const sub = await mkdtemp(join(dir, 'abort-'));
    await writeFile(join(sub, 'plain'), data);
    const ac = new AbortController();
    const reason = new Error('stop');
    ac.abort(reason);
    const err = await encryptFile(join(sub, 'plain'), join(sub, 'enc'), key, {
      ...opts,
      signal: ac.signal,
    }).catch((e: unknown) => e);
    expect(isAbortedError(err)).toBe(true);
    expect((err as AbortedError).cause).toBe(reason);
    expect(await readdir(sub)).toEqual(['plain']);
    // Aborted half-way: the rejection comes once the temporary file is gone.
    await encryptFile(join(sub, 'plain'), join(sub, 'enc'), key, opts);
    for (const run of [
      (o: FileOptions) => encryptFile(join(sub, 'plain'), join(sub, 'enc2'), key, o),
      (o: FileOptions) => decryptFile(join(sub, 'enc'), join(sub, 'dec'), [generateKey(), key], o),
      (o: FileOptions) => rotateFile(join(sub, 'enc'), join(sub, 'rot'), [generateKey(), key], o),
    ]) {
      const mid = new AbortController();
      const e = await run({ ...opts, signal: mid.signal, onProgress: () => mid.abort() }).catch(
        (x: unknown) => x,
      );
      expect(isOrgError(e, CoreErrorCode.Aborted)).toBe(true);
      expect((await readdir(sub)).sort()).toEqual(['enc', 'plain']);
    }
  });

  it('rejects with core TimeoutError past its timeout and leaves nothing behind', async () => {
    const sub = await mkdtemp(join(dir, 'timeout-'));
    await writeFile(join(sub, 'plain'), data);
    const err = await encryptFile(join(sub, 'plain'), join(sub, 'enc'), key, {
      ...opts,
      timeout: 1,
      onProgress: () => {
        const until = Date.now() + 5; // slower than the bound, whatever the machine
        while (Date.now() < until);
      },
    }).catch((e: unknown) => e);
    expect(isTimeoutError(err)).toBe(true);
    expect((err as TimeoutError).timeoutMs).toBe(1);
    expect(await readdir(sub)).toEqual(['plain']);
    expect(
      await failure(encryptFile(join(sub, 'plain'), join(sub, 'x'), key, { timeout: '1' as '1s' })),
    ).toBe(FernetErrorCode.InvalidOption);
    const notOptions = null as unknown as undefined;
    expect(await failure(encryptFile(join(sub, 'plain'), join(sub, 'x'), key, notOptions))).toBe(
      FernetErrorCode.InvalidOption,
    );
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
