import { randomBytes } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ReadableStream } from 'node:stream/web';
import {
  createChunkedDecryptStream,
  createChunkedEncryptStream,
  createDecryptStream,
  createDecryptWebStream,
  createEncryptStream,
  createEncryptWebStream,
  Fernet,
  FernetErrorCode,
  generateKey,
  isFernetError,
} from '@org/backup-crypto';
import { type AbortedError, type Clock, isAbortedError, isTimeoutError } from '@org/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { failure } from './helpers/failure.js';
import { splitAt, through } from './helpers/streams.js';

const key = generateKey();
const f = new Fernet(key);
const fixed = { timestamp: 1_700_000_000, iv: Buffer.alloc(16, 7) };

describe('createEncryptStream', () => {
  it('writes exactly the token Fernet.encrypt writes, however the input is cut', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 5000 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        async (data, cuts) => {
          const buf = Buffer.from(data);
          const streamed = await through(createEncryptStream(key, fixed), splitAt(buf, cuts));
          expect(streamed.toString('latin1')).toBe(f.encrypt(buf, fixed));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('gives a token for empty input', async () => {
    const token = await through(createEncryptStream(key), []);
    expect(f.decrypt(token.toString())).toHaveLength(0);
  });

  it('refuses a bad key at once', () => {
    expect(() => createEncryptStream('nope')).toThrow(/32 random bytes/);
  });

  it('refuses options that are not an object, or a clock that is not a Clock, at once', () => {
    const codeOf = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        return isFernetError(err) ? err.code : String(err);
      }
      return 'returned';
    };
    const notOptions = null as unknown as undefined;
    const notAClock = { now: 5 } as unknown as Clock;
    for (const make of [
      () => createEncryptStream(key, notOptions),
      () => createDecryptStream(key, notOptions),
      () => createChunkedEncryptStream(key, notOptions),
      () => createChunkedDecryptStream(key, notOptions),
      () => createEncryptStream(key, { clock: notAClock }),
      () => createDecryptStream(key, { clock: notAClock }),
      () => createDecryptStream(key, { maxClockSkew: '1 fortnight' as '1w' }),
      () => createChunkedDecryptStream(key, { maxChunkSize: 0 }),
    ]) {
      expect(codeOf(make)).toBe(FernetErrorCode.InvalidOption);
    }
  });
});

describe('createDecryptStream', () => {
  it('decrypts a token however it is cut, with or without a final newline', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 5000 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.boolean(),
        async (data, cuts, newline) => {
          const token = Buffer.from(f.encrypt(data) + (newline ? '\n' : ''));
          const plain = await through(createDecryptStream(key), splitAt(token, cuts));
          expect(plain).toEqual(Buffer.from(data));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('errors at the end on any flipped bit, truncation or extension', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 3000 }),
        fc.nat(),
        fc.nat(7),
        fc.constantFrom('flip', 'truncate', 'extend'),
        async (data, at, bit, how) => {
          const raw = Buffer.from(f.encrypt(data), 'base64url');
          let bad: string;
          if (how === 'flip') {
            raw[at % raw.length] = raw[at % raw.length]! ^ (1 << bit);
            bad = raw.toString('base64url');
          } else if (how === 'truncate') {
            bad = raw.subarray(0, at % raw.length).toString('base64url');
          } else {
            bad = Buffer.concat([raw, Buffer.alloc(1 + (at % 40))]).toString('base64url');
          }
          bad += '='.repeat((4 - (bad.length % 4)) % 4);
          const code = await failure(
            through(createDecryptStream(key), splitAt(Buffer.from(bad), [at])),
          );
          expect(code).toBe(FernetErrorCode.InvalidToken);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses whitespace or text after the token, and a token of another key', async () => {
    const token = f.encrypt(randomBytes(100));
    const cases = [`${token.slice(0, 50)}\n${token.slice(50)}`, `${token}\nA`, `${token}AAAA`];
    for (const text of cases) {
      expect(await failure(through(createDecryptStream(key), [Buffer.from(text)]))).toBe(
        FernetErrorCode.InvalidToken,
      );
    }
    const other = new Fernet(generateKey()).encrypt('x');
    expect(await failure(through(createDecryptStream(key), [Buffer.from(other)]))).toBe(
      FernetErrorCode.InvalidToken,
    );
    expect(await failure(through(createDecryptStream(key), []))).toBe(FernetErrorCode.InvalidToken);
  });

  it('applies ttl against the injected clock, after the MAC', async () => {
    const token = Buffer.from(f.encrypt('old', { timestamp: 1000 }));
    const stream = () => createDecryptStream(key, { ttl: '60s', clock: { now: () => 2_000_000 } });
    expect(await failure(through(stream(), [token]))).toBe(FernetErrorCode.TokenExpired);
    const ok = createDecryptStream(key, { ttl: 60_000, clock: { now: () => 1_030_000 } });
    expect((await through(ok, [token])).toString()).toBe('old');
    const skewed = createDecryptStream(key, {
      ttl: '1h',
      maxClockSkew: 0,
      clock: { now: () => 999_000 },
    });
    expect(await failure(through(skewed, [token]))).toBe(FernetErrorCode.InvalidToken);
  });
});

describe('the signal option of the streams', () => {
  const reason = new Error('stop');
  const makers = {
    createEncryptStream: (signal: AbortSignal) => createEncryptStream(key, { signal }),
    createDecryptStream: (signal: AbortSignal) => createDecryptStream(key, { signal }),
    createChunkedEncryptStream: (signal: AbortSignal) =>
      createChunkedEncryptStream(key, { signal, chunkSize: 10 }),
    createChunkedDecryptStream: (signal: AbortSignal) =>
      createChunkedDecryptStream(key, { signal }),
  };

  it.each(Object.entries(makers))(
    '%s errors with core AbortedError when it fires',
    async (_, make) => {
      const ac = new AbortController();
      const input = new PassThrough();
      const done = pipeline(input, make(ac.signal), new PassThrough().resume());
      input.write(Buffer.from(f.encrypt('x')).subarray(0, 20));
      setImmediate(() => ac.abort(reason));
      const err = await done.catch((e: unknown) => e);
      expect(isAbortedError(err)).toBe(true);
      expect((err as AbortedError).cause).toBe(reason);
      // An already aborted signal stops the stream at once.
      const late = await pipeline(
        Readable.from([Buffer.from('x')]),
        make(AbortSignal.abort(reason)),
        new PassThrough().resume(),
      ).catch((e: unknown) => e);
      expect(isAbortedError(late)).toBe(true);
    },
  );

  it('the Web forms error with core AbortedError, and AbortSignal.timeout() gives TimeoutError', async () => {
    for (const make of [
      (signal: AbortSignal) => createEncryptWebStream(key, { signal }),
      (signal: AbortSignal) => createDecryptWebStream(key, { signal }),
    ]) {
      const ac = new AbortController();
      const source = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new Uint8Array(Buffer.from(f.encrypt('x')).subarray(0, 20)));
        },
      });
      const reading = (async () => {
        for await (const _ of source.pipeThrough(make(ac.signal)));
      })().catch((e: unknown) => e);
      setImmediate(() => ac.abort(reason));
      const err = await reading;
      expect(isAbortedError(err)).toBe(true);
      expect((err as AbortedError).cause).toBe(reason);
    }
    const timedOut = await through(createEncryptStream(key, { signal: AbortSignal.timeout(1) }), [])
      .then(() => new Promise((r) => setTimeout(r, 20)))
      .catch((e: unknown) => e);
    // A stream that finished before its signal fired is left alone.
    expect(timedOut).toBeUndefined();
    const never = new PassThrough();
    const stopped = await pipeline(
      never,
      createDecryptStream(key, { signal: AbortSignal.timeout(5) }),
      new PassThrough().resume(),
    ).catch((e: unknown) => e);
    expect(isTimeoutError(stopped)).toBe(true);
  });

  it('refuses a signal that is not an AbortSignal', () => {
    const notASignal = {} as AbortSignal;
    expect(() => createEncryptStream(key, { signal: notASignal })).toThrow(/`signal`/);
    expect(() => createDecryptWebStream(key, { signal: notASignal })).toThrow(/`signal`/);
  });
});
