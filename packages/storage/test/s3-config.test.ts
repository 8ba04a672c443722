import { isStorageError } from '@org/storage';
import { createS3Driver } from '@org/storage/s3';
import { describe, expect, it } from 'vitest';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret-never-shown' };

describe('S3 driver configuration', () => {
  it('R2 profile: region auto, checksums only when required', async () => {
    const d = createS3Driver({
      profile: 'r2',
      bucket: 'b',
      endpoint: 'https://acc.r2.cloudflarestorage.com',
      credentials,
    });
    expect(d.name).toBe('r2');
    expect(await d.client.config.region()).toBe('auto');
    expect(await d.client.config.requestChecksumCalculation()).toBe('WHEN_REQUIRED');
    expect(await d.client.config.responseChecksumValidation()).toBe('WHEN_REQUIRED');
    expect(d.client.config.maxAttempts).toBeDefined();
    await d.close?.();
  });

  it('presigned PUT URLs carry no SDK checksum a browser could not match', async () => {
    for (const profile of ['aws', 'r2'] as const) {
      const d = createS3Driver({ profile, bucket: 'b', region: 'eu-west-1', credentials });
      const url = new URL(
        await d.signedUrl('a/b c.txt', {
          method: 'PUT',
          expiresIn: '60s',
          contentType: 'text/plain',
        }),
      );
      expect(url.searchParams.get('X-Amz-Expires')).toBe('60');
      const names = [...url.searchParams.keys()].map((k) => k.toLowerCase());
      expect(
        names.some((k) => k.startsWith('x-amz-checksum') || k === 'x-amz-sdk-checksum-algorithm'),
      ).toBe(false);
      expect(url.toString()).not.toContain(credentials.secretAccessKey);
      await d.close?.();
    }
  });

  it('refuses a queueSize that is not an integer >= 0 (a negative one would wait forever)', () => {
    for (const queueSize of [-1, 1.5, Number.NaN]) {
      expect(() => createS3Driver({ bucket: 'b', queueSize })).toThrow(/`queueSize` must be/);
    }
    expect(createS3Driver({ bucket: 'b', queueSize: 0 }).name).toBe('s3');
  });

  it('refuses a missing bucket and a part size under 5 MiB', () => {
    const err = (() => {
      try {
        createS3Driver({ bucket: '' });
      } catch (e) {
        return e;
      }
    })();
    expect(isStorageError(err, 'ERR_STORAGE_INVALID_OPTION')).toBe(true);
    expect(() => createS3Driver({ bucket: 'b', partSize: 1024 })).toThrow(/at least 5 MiB/);
  });
});
