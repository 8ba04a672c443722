import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createStorage } from '@org/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunkReader } from '../src/chunk-reader.js';
import { multipartUpload, partSizeFor } from '../src/drivers/s3-multipart.js';
import { motoAvailable, motoConnection, startMoto } from './moto.js';

const MiB = 1024 * 1024;

describe('part sizes', () => {
  it('double every 1,000 parts, so 10,000 parts reach S3 5 TiB object limit', () => {
    const base = 5 * MiB;
    expect(partSizeFor(1, base)).toBe(base);
    expect(partSizeFor(1000, base)).toBe(base);
    expect(partSizeFor(1001, base)).toBe(2 * base);
    expect(partSizeFor(2001, base)).toBe(4 * base);
    expect(partSizeFor(10_000, base)).toBe(512 * base);
    let total = 0;
    for (let n = 1; n <= 10_000; n++) total += partSizeFor(n, base);
    expect(total / 1024 ** 4).toBeGreaterThan(4.8);
    // Never past S3's largest part, 5 GiB.
    expect(partSizeFor(10_000, 64 * MiB)).toBe(5 * 1024 ** 3);
  });
});

/** A client that records the size of every part and the checksum type each upload asked for. */
function recordingClient(endpoint: string) {
  const client = new S3Client(motoConnection(endpoint));
  const parts: number[] = [];
  const checksumTypes: (string | undefined)[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { ContentLength?: number; ChecksumType?: string };
      if (context.commandName === 'UploadPartCommand') parts.push(input.ContentLength ?? -1);
      if (context.commandName === 'CreateMultipartUploadCommand') {
        checksumTypes.push(input.ChecksumType);
      }
      return next(args);
    },
    { step: 'initialize', name: 'recordParts' },
  );
  return { client, parts, checksumTypes };
}

function stream(bytes: Buffer, chunk = 256 * 1024): Readable {
  let at = 0;
  return new Readable({
    read() {
      if (at >= bytes.length) return this.push(null);
      this.push(bytes.subarray(at, at + chunk));
      at += chunk;
    },
  });
}

describe.runIf(motoAvailable)('multipart uploads on moto', () => {
  let moto: Awaited<ReturnType<typeof startMoto>>;
  let bucket: string;
  beforeAll(async () => {
    moto = await startMoto();
    bucket = await moto.bucket('multipart');
  });
  afterAll(async () => moto?.stop());

  it('step the part size up as the upload grows, from a stream and from a Buffer', async () => {
    const { client, parts } = recordingClient(moto.endpoint);
    const data = randomBytes(42 * MiB);
    const sha256 = createHash('sha256').update(data).digest('hex');
    // Two parts per step: 5, 5, 10, 10, then the last 12 MiB (of a 20 MiB step).
    const args = {
      client,
      bucket,
      params: {},
      partSize: 5 * MiB,
      queueSize: 1,
      signal: new AbortController().signal,
      fullObjectChecksum: false,
      partsPerStep: 2,
      withRetry: <T>(fn: (signal: AbortSignal) => Promise<T>) => fn(new AbortController().signal),
    };
    for (const [key, source] of [
      ['grow/stream.bin', { head: [] as Buffer[], rest: chunkReader(stream(data)) }],
      ['grow/buffer.bin', { bytes: data }],
    ] as const) {
      parts.length = 0;
      const hash = createHash('sha256');
      const r = await multipartUpload({ ...args, key, source, hash });
      expect(r.size).toBe(data.length);
      expect(hash.digest('hex')).toBe(sha256);
      expect(parts).toEqual([5 * MiB, 5 * MiB, 10 * MiB, 10 * MiB, 12 * MiB]);
      const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const back = Buffer.from(await res.Body!.transformToByteArray());
      expect(createHash('sha256').update(back).digest('hex')).toBe(sha256);
    }
    client.destroy();
  });

  it('ask for composite CRC32s as lib-storage does, full-object ones with the sha256 copy', async () => {
    const data = randomBytes(11 * MiB);
    for (const storeMultipartSha256 of [false, true]) {
      const { client, checksumTypes } = recordingClient(moto.endpoint);
      const storage = createStorage({ s3: { client, bucket, storeMultipartSha256 } });
      const put = await storage.put('crc/object.bin', stream(data));
      expect(put.sha256Stored).toBe(storeMultipartSha256 ? undefined : false);
      expect(checksumTypes).toEqual([storeMultipartSha256 ? 'FULL_OBJECT' : undefined]);
      expect((await storage.getBuffer('crc/object.bin')).equals(data)).toBe(true);
      await storage.close();
      client.destroy();
    }
  });
});
