import type { Transform } from 'node:stream';
import type { TransformStream } from 'node:stream/web';
import {
  createChunkedDecryptStream,
  createDecryptStream,
  createDecryptWebStream,
  createEncryptStream,
  createEncryptWebStream,
  type DecryptOptions,
  decryptFile,
  Fernet,
  type FernetError,
  FernetErrorCode,
  type FernetKey,
  type FernetOptions,
  type FileOptions,
  isFernetError,
  MultiFernet,
} from '@org/backup-crypto';
import type { Clock, Duration, OrgError } from '@org/core';
import { describe, expectTypeOf, it } from 'vitest';

describe('public types', () => {
  it('keys are strings or bytes', () => {
    expectTypeOf<string>().toExtend<FernetKey>();
    expectTypeOf<Uint8Array>().toExtend<FernetKey>();
    expectTypeOf<number>().not.toExtend<FernetKey>();
  });

  it('encrypt returns a string token and decrypt a Buffer', () => {
    const f = new Fernet('k');
    expectTypeOf(f.encrypt).returns.toEqualTypeOf<string>();
    expectTypeOf(f.decrypt).returns.toEqualTypeOf<Buffer>();
    expectTypeOf(new MultiFernet(['k']).rotate).returns.toEqualTypeOf<string>();
  });

  it('error codes are a closed union and the guard narrows', () => {
    expectTypeOf(FernetErrorCode.InvalidToken).toEqualTypeOf<'ERR_FERNET_INVALID_TOKEN'>();
    const err: unknown = new Error('x');
    if (isFernetError(err)) expectTypeOf(err).toEqualTypeOf<FernetError>();
    expectTypeOf<FernetError['code']>().toEqualTypeOf<FernetErrorCode>();
  });

  it('streams are Node Transforms; decryption takes one key or several where it can', () => {
    expectTypeOf(createEncryptStream).returns.toEqualTypeOf<Transform>();
    expectTypeOf(createDecryptStream).parameter(0).toEqualTypeOf<FernetKey>();
    expectTypeOf(createChunkedDecryptStream)
      .parameter(0)
      .toEqualTypeOf<FernetKey | readonly FernetKey[]>();
    expectTypeOf(decryptFile).returns.toEqualTypeOf<Promise<void>>();
  });

  it('the Web forms are byte TransformStreams', () => {
    expectTypeOf(createEncryptWebStream).returns.toEqualTypeOf<
      TransformStream<Uint8Array, Uint8Array>
    >();
    expectTypeOf(createDecryptWebStream).returns.toEqualTypeOf<
      TransformStream<Uint8Array, Uint8Array>
    >();
  });

  it('durations are core Durations, the clock a core Clock, and undefined is accepted', () => {
    expectTypeOf<DecryptOptions['ttl']>().toEqualTypeOf<Duration | undefined>();
    expectTypeOf<FernetOptions['maxClockSkew']>().toEqualTypeOf<Duration | undefined>();
    expectTypeOf<FernetOptions['clock']>().toEqualTypeOf<Clock | undefined>();
    expectTypeOf<FileOptions['timeout']>().toEqualTypeOf<Duration | undefined>();
    expectTypeOf({ ttl: '7d' } as const).toExtend<DecryptOptions>();
    expectTypeOf({ ttl: undefined, clock: undefined }).toExtend<DecryptOptions & FernetOptions>();
    // @ts-expect-error a string without a unit is not a Duration
    const bad: DecryptOptions = { ttl: '60' };
    void bad;
  });

  it('FernetError is an OrgError of the package codes', () => {
    expectTypeOf<FernetError>().toExtend<OrgError<FernetErrorCode>>();
  });
});
