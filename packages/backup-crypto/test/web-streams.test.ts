import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReadableStream } from 'node:stream/web';
import {
  createDecryptWebStream,
  createEncryptWebStream,
  Fernet,
  FernetErrorCode,
  generateKey,
} from '@org/backup-crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { failure } from './helpers/failure.js';
import { pyFernet, pythonReady } from './helpers/python.js';
import { splitAt, throughWeb } from './helpers/streams.js';

const key = generateKey();
const f = new Fernet(key);
const fixed = { timestamp: 1_700_000_000, iv: Buffer.alloc(16, 7) };

describe('createEncryptWebStream / createDecryptWebStream', () => {
  it('write the token Fernet.encrypt writes and read it back, however the input is cut', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 5000 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        async (data, cuts) => {
          const buf = Buffer.from(data);
          const token = await throughWeb(createEncryptWebStream(key, fixed), splitAt(buf, cuts));
          expect(token.toString('latin1')).toBe(f.encrypt(buf, fixed));
          const plain = await throughWeb(createDecryptWebStream(key), splitAt(token, cuts));
          expect(plain).toEqual(buf);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('emit plain Uint8Arrays, not Buffers', async () => {
    const stage = createEncryptWebStream(key);
    const source = ReadableStream.from([new Uint8Array([1, 2, 3])]);
    for await (const chunk of source.pipeThrough(stage)) {
      expect(Object.getPrototypeOf(chunk)).toBe(Uint8Array.prototype);
    }
  });

  it('error at the end on a flipped bit or a cut, and on a chunk that is not bytes', async () => {
    const raw = Buffer.from(f.encrypt(randomBytes(70_000)), 'base64url');
    const flipped = Buffer.from(raw);
    flipped[40_000] = flipped[40_000]! ^ 4;
    const b64 = (b: Buffer) => {
      const s = b.toString('base64url');
      return Buffer.from(s + '='.repeat((4 - (s.length % 4)) % 4));
    };
    for (const bad of [b64(flipped), b64(raw.subarray(0, raw.length - 16))]) {
      expect(await failure(throughWeb(createDecryptWebStream(key), splitAt(bad, [1000])))).toBe(
        FernetErrorCode.InvalidToken,
      );
    }
    const notBytes = ['text'] as unknown as Uint8Array[];
    expect(await failure(throughWeb(createEncryptWebStream(key), notBytes))).toBe(
      FernetErrorCode.InvalidArgument,
    );
  });

  it('refuse a bad key or option at once', () => {
    expect(() => createEncryptWebStream('nope')).toThrow(/32 random bytes/);
    expect(() => createDecryptWebStream(key, { ttl: -1 })).toThrow(/ttl/);
  });
});

describe.runIf(await pythonReady())('Web streams and Python', () => {
  it("Python's Fernet decrypts what createEncryptWebStream writes", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'backup-crypto-web-'));
    try {
      const data = randomBytes(1_000_003);
      const token = await throughWeb(createEncryptWebStream(key), splitAt(data, [65_536, 70_001]));
      await writeFile(join(dir, 'token'), token);
      const plain = await pyFernet('decrypt', key, join(dir, 'token'), '-');
      expect(plain.equals(data)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
