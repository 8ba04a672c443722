import { createS3Driver } from '@org/storage/s3';
import { describe, expect, it } from 'vitest';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret-never-shown' };

// The local driver's signed PUT binds its Content-Type (403 for another); the S3 driver's
// presigned PUT must too, so that the two drivers agree.
describe('S3 presigned PUT and Content-Type', () => {
  it('signs the Content-Type header it was made for', async () => {
    for (const profile of ['aws', 'r2'] as const) {
      const d = createS3Driver({ profile, bucket: 'b', region: 'eu-west-1', credentials });
      const url = new URL(
        await d.signedUrl('up/x.png', {
          method: 'PUT',
          expiresIn: '60s',
          contentType: 'image/png',
        }),
      );
      const signed = (url.searchParams.get('X-Amz-SignedHeaders') ?? '').split(';');
      expect(signed, profile).toContain('content-type');
      // Not hoisted into the query, where any Content-Type header would do.
      expect(url.searchParams.has('Content-Type'), profile).toBe(false);
      // A PUT URL made without a type binds none; a GET URL is unchanged.
      const free = new URL(await d.signedUrl('up/y.bin', { method: 'PUT', expiresIn: '60s' }));
      expect(free.searchParams.get('X-Amz-SignedHeaders'), profile).toBe('host');
      const get = new URL(await d.signedUrl('up/x.png', { expiresIn: '60s' }));
      expect(get.searchParams.get('X-Amz-SignedHeaders'), profile).toBe('host');
      await d.close?.();
    }
  });
});
