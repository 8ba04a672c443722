import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  createChunkedDecryptStream,
  createChunkedEncryptStream,
  createDecryptStream,
  Fernet,
  generateKey,
} from '@org/backup-crypto';
import { describe, expect, it } from 'vitest';
import { chunkedTool, pyBatch, pythonReady, run } from './helpers/python.js';
import { through } from './helpers/streams.js';

const sizes = [0, 1, 15, 16, 17, 31, 33, 255, 4097, 65_537, 1_000_000, 1_048_576, 1_000_003];

describe.runIf(await pythonReady())("interop with Python's cryptography.fernet", () => {
  const key = generateKey();
  const f = new Fernet(key);

  const inputs = sizes.map((n) => randomBytes(n));

  it(`Node encrypts ${sizes.join(', ')} bytes; Python decrypts each byte for byte`, async () => {
    const tokens = inputs.map((d) => Buffer.from(f.encrypt(d)));
    const plains = await pyBatch('decrypt', key, tokens);
    for (const [i, p] of plains.entries()) {
      expect(p?.equals(inputs[i]!), `size ${sizes[i]}`).toBe(true);
    }
  });

  it(`Python encrypts ${sizes.join(', ')} bytes; Node decrypts each, whole and streamed`, async () => {
    const tokens = await pyBatch('encrypt', key, inputs);
    for (const [i, token] of tokens.entries()) {
      const text = token!.toString('latin1');
      expect(f.decrypt(text).equals(inputs[i]!), `size ${sizes[i]}`).toBe(true);
      const streamed = await through(createDecryptStream(key), [token!]);
      expect(streamed.equals(inputs[i]!), `streamed size ${sizes[i]}`).toBe(true);
    }
  });

  it('Python refuses Node tokens with a flipped bit, a cut, or another key', async () => {
    const raw = Buffer.from(f.encrypt('secret dump'), 'base64url');
    const flipped = Buffer.from(raw);
    flipped[30] = flipped[30]! ^ 1;
    const b64 = (b: Buffer) => {
      const s = b.toString('base64url');
      return Buffer.from(s + '='.repeat((4 - (s.length % 4)) % 4));
    };
    const bad = [
      b64(flipped),
      b64(raw.subarray(0, raw.length - 1)),
      Buffer.from(new Fernet(generateKey()).encrypt('secret dump')),
    ];
    expect(await pyBatch('decrypt', key, bad)).toEqual([null, null, null]);
  });

  it.each([0, 1_048_576, 3_000_001])(
    'fernet_chunked.py decrypts %i bytes of chunked output byte for byte, and back',
    async (size) => {
      const data = randomBytes(size);
      const enc = await through(createChunkedEncryptStream(key, { chunkSize: 1024 * 1024 }), [
        data,
      ]);
      const plain = await run([chunkedTool, 'decrypt', '-', '-'], { key, input: enc });
      expect(plain.equals(data)).toBe(true);
      const pyEnc = await run([chunkedTool, 'encrypt', '--chunk-size', '65536', '-', '-'], {
        key,
        input: data,
      });
      expect((await through(createChunkedDecryptStream(key), [pyEnc])).equals(data)).toBe(true);
    },
  );

  it('fernet_chunked.py refuses truncation and reordering with a one-line reason', async () => {
    const enc = await through(createChunkedEncryptStream(key, { chunkSize: 10 }), [
      randomBytes(35),
    ]);
    const lines = enc.toString('latin1').split('\n').filter(Boolean);
    const truncated = lines
      .slice(0, 3)
      .map((l) => `${l}\n`)
      .join('');
    await expect(
      run([chunkedTool, 'decrypt', '-', '-'], { key, input: truncated }),
    ).rejects.toMatchObject({
      stderr: expect.stringMatching(/^fernet_chunked: .*truncated\n$/),
    });
    const swapped = [lines[1], lines[0], lines[2], lines[3]].map((l) => `${l}\n`).join('');
    await expect(
      run([chunkedTool, 'decrypt', '-', '-'], { key, input: swapped }),
    ).rejects.toMatchObject({
      stderr: expect.stringMatching(/chunk 1 where chunk 0 was expected/),
    });
    await expect(
      run([chunkedTool, 'decrypt', '-', '-'], { key: generateKey(), input: enc }),
    ).rejects.toMatchObject({ stderr: expect.stringMatching(/could not be verified/) });
  });

  it('fernet_chunked.py never echoes a key given where a path or a command belongs', async () => {
    let k = generateKey();
    while (k.startsWith('-')) k = generateKey();
    const cases = [
      ['decrypt', '--key-file', k, '-', '-'],
      [k, '-', '-'],
      ['decrypt', k, 'out'],
      ['encrypt', '-', join(k, 'out')],
    ];
    for (const args of cases) {
      const err = await run([chunkedTool, ...args], { key }).then(
        () => ({ stderr: 'exited 0' }),
        (e: { stderr: string }) => e,
      );
      expect(err.stderr, args.join(' ')).not.toContain(k.slice(2, 42));
      expect(err.stderr, args.join(' ')).toContain('[redacted key-like argument]');
    }
  });
});
