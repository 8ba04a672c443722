import { randomBytes } from 'node:crypto';
import {
  createChunkedDecryptStream,
  createChunkedEncryptStream,
  createDecryptStream,
  createDecryptWebStream,
  createEncryptStream,
  createEncryptWebStream,
  Fernet,
  generateKey,
  MultiFernet,
} from '@org/backup-crypto';
import { type OtelHarness, startOtel } from '@org/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { splitAt, through, throughWeb } from './helpers/streams.js';

let otel: OtelHarness;
beforeEach(() => {
  otel = startOtel(); // after @org/backup-crypto was imported: late registration
});
afterEach(() => otel.close());

const BYTES = 'org.backup_crypto.bytes';
const encrypted = () => otel.sum(BYTES, { 'org.backup_crypto.operation': 'encrypt' });
const decrypted = () => otel.sum(BYTES, { 'org.backup_crypto.operation': 'decrypt' });

describe('backup-crypto telemetry', () => {
  it('counts the plaintext bytes of tokens encrypted and decrypted, and refusals by code', async () => {
    const f = new Fernet(generateKey());
    const token = f.encrypt('x'.repeat(1000));
    f.encrypt(new Uint8Array(24));
    expect(f.decrypt(token).length).toBe(1000);
    expect(await encrypted()).toBe(1024);
    expect(await decrypted()).toBe(1000);
    expect(() => f.decrypt(`${token.slice(0, -6)}AAAAAA`)).toThrow();
    expect(() => new Fernet(generateKey()).decrypt(token)).toThrow();
    expect(
      await otel.sum('org.backup_crypto.failures', { 'error.type': 'ERR_FERNET_INVALID_TOKEN' }),
    ).toBe(2);
    const m = new MultiFernet([generateKey()]);
    m.decrypt(m.encrypt('abc'));
    expect(await encrypted()).toBe(1027);
    expect(await decrypted()).toBe(1003);
    const [point] = await otel.points(BYTES);
    expect(point?.unit).toBe('By');
  });

  it('counts the bytes of streams, web streams and chunked streams (data only, not chunk headers)', async () => {
    const key = generateKey();
    const data = randomBytes(300_000);
    const token = await through(createEncryptStream(key), splitAt(data, [1, 70_000, 200_001]));
    expect(await encrypted()).toBe(300_000);
    expect(
      (await through(createDecryptStream(key), splitAt(token, [5, 99_999]))).equals(data),
    ).toBe(true);
    expect(await decrypted()).toBe(300_000);

    const web = await throughWeb(createEncryptWebStream(key), [
      data.subarray(0, 400),
      data.subarray(400, 1000),
    ]);
    expect(await encrypted()).toBe(301_000);
    await throughWeb(createDecryptWebStream(key), [web]);
    expect(await decrypted()).toBe(301_000);

    const chunked = await through(createChunkedEncryptStream(key, { chunkSize: 64 * 1024 }), [
      data,
    ]);
    expect(await encrypted()).toBe(601_000);
    expect((await through(createChunkedDecryptStream(key), [chunked])).equals(data)).toBe(true);
    expect(await decrypted()).toBe(601_000);
  });
});
