import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import {
  createChunkedDecryptStream,
  createChunkedEncryptStream,
  Fernet,
  FernetErrorCode,
  generateKey,
} from '@org/backup-crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { failure } from './helpers/failure.js';
import { splitAt, through } from './helpers/streams.js';

const key = generateKey();
const encrypt = (data: Buffer, chunkSize = 100) =>
  through(createChunkedEncryptStream(key, { chunkSize }), [data]);
const lines = (enc: Buffer) => enc.toString('latin1').split('\n').filter(Boolean);
const decrypt = (text: string | Buffer, k: string | string[] = key) =>
  through(createChunkedDecryptStream(k), [Buffer.from(text)]);

describe('chunked format', () => {
  it('round-trips any data, chunk size and input cuts', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 3000 }),
        fc.integer({ min: 1, max: 700 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        async (data, chunkSize, cuts) => {
          const buf = Buffer.from(data);
          const enc = await through(
            createChunkedEncryptStream(key, { chunkSize }),
            splitAt(buf, cuts),
          );
          expect(lines(enc)).toHaveLength(Math.max(1, Math.ceil(buf.length / chunkSize)));
          const out = await through(createChunkedDecryptStream(key), splitAt(enc, cuts));
          expect(out).toEqual(buf);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('writes one standard Fernet token per line, with the chunk header inside', async () => {
    const enc = await encrypt(Buffer.from('x'.repeat(250)));
    const tokens = lines(enc);
    expect(enc.toString().endsWith('\n')).toBe(true);
    expect(tokens).toHaveLength(3);
    const plains = tokens.map((t) => new Fernet(key).decrypt(t));
    expect(plains.map((p) => p.subarray(0, 5).toString('latin1'))).toEqual(
      Array(3).fill('FNTC\x01'),
    );
    expect(plains.map((p) => p[5])).toEqual([0, 0, 1]);
    expect(plains.map((p) => Number(p.readBigUInt64BE(6)))).toEqual([0, 1, 2]);
    expect(plains[0]!.subarray(14, 30)).toEqual(plains[2]!.subarray(14, 30));
    expect(plains.map((p) => p.length - 30)).toEqual([100, 100, 50]);
  });

  it('detects reordering, duplication, truncation, splicing and trailing data', async () => {
    const t = lines(await encrypt(randomBytes(450)));
    const other = lines(await encrypt(randomBytes(450)));
    const join = (xs: string[]) => xs.map((x) => `${x}\n`).join('');
    expect(await failure(decrypt(join([t[1]!, t[0]!, ...t.slice(2)])))).toBe(
      FernetErrorCode.ChunkSequence,
    );
    expect(await failure(decrypt(join([t[0]!, t[0]!, ...t.slice(1)])))).toBe(
      FernetErrorCode.ChunkSequence,
    );
    expect(await failure(decrypt(join([t[0]!, ...t.slice(2)])))).toBe(
      FernetErrorCode.ChunkSequence,
    );
    expect(await failure(decrypt(join(t.slice(0, -1))))).toBe(FernetErrorCode.Truncated);
    expect(await failure(decrypt(''))).toBe(FernetErrorCode.Truncated);
    expect(await failure(decrypt(join([t[0]!, other[1]!, ...t.slice(2)])))).toBe(
      FernetErrorCode.ChunkSequence,
    );
    expect(await failure(decrypt(join([...t, t[4]!])))).toBe(FernetErrorCode.ChunkSequence);
    expect(await failure(decrypt(join([...t, other[0]!])))).toBe(FernetErrorCode.ChunkSequence);
    const cut = join(t);
    expect(await failure(decrypt(cut.slice(0, -30)))).toBe(FernetErrorCode.InvalidToken);
    expect(await failure(decrypt(join(t), generateKey()))).toBe(FernetErrorCode.InvalidToken);
    expect((await decrypt(join(t), [generateKey(), key])).length).toBe(450);
    expect((await decrypt(join(t).replaceAll('\n', '\r\n'))).length).toBe(450);
  });

  it('refuses a plain Fernet token with ERR_FERNET_CHUNK_FORMAT', async () => {
    expect(await failure(decrypt(new Fernet(key).encrypt('not chunked')))).toBe(
      FernetErrorCode.ChunkFormat,
    );
  });

  it('releases each verified chunk before the input ends', async () => {
    const t = lines(await encrypt(randomBytes(300)));
    const input = new PassThrough();
    const dec = createChunkedDecryptStream(key);
    input.pipe(dec);
    let released = 0;
    const first = new Promise<number>((resolve) =>
      dec.on('data', (chunk: Buffer) => {
        released += chunk.length;
        if (released >= 100) resolve(released);
      }),
    );
    input.write(`${t[0]}\n`);
    expect(await first).toBe(100);
    input.destroy();
    dec.destroy();
  });

  it('bounds the line it buffers', async () => {
    const dec = createChunkedDecryptStream(key, { maxChunkSize: 1000 });
    expect(await failure(through(dec, [Buffer.alloc(5000, 0x41)]))).toBe(
      FernetErrorCode.InvalidToken,
    );
  });

  it('refuses a chunk size out of range', () => {
    expect(() => createChunkedEncryptStream(key, { chunkSize: 0 })).toThrow(/chunkSize/);
  });
});
