import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStorageFromEnv } from '@org/storage';
import { describe, expect, it } from 'vitest';
import { credentials, motoAvailable, startMoto } from './moto.js';

describe('createStorageFromEnv', () => {
  it('uses the local disk when nothing is set, with the namespaces the app gives', async () => {
    const root = await mkdtemp(join(tmpdir(), 'org-storage-env-'));
    try {
      const s = createStorageFromEnv({ STORAGE_ROOT: root }, { namespaces: ['pdfs', 'logos'] });
      expect(s.backend).toBe('local');
      await s.namespace('pdfs').put('a.pdf', '%PDF');
      expect((await s.getBuffer('pdfs/a.pdf')).toString()).toBe('%PDF');
      expect(() => s.namespace('other')).toThrow(/Unknown namespace/);
      // No namespaces of its own: without the app's list, any single segment is one.
      const open = createStorageFromEnv({ STORAGE_ROOT: root });
      expect((await open.namespace('other').put('b.txt', 'b')).key).toBe('b.txt');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('selects the R2 profile from an R2 endpoint or region auto', () => {
    const env = { AWS_S3_BUCKET: 'b', S3_ENDPOINT: 'https://acc.r2.cloudflarestorage.com' };
    expect(createStorageFromEnv(env).backend).toBe('r2');
    expect(createStorageFromEnv({ AWS_S3_BUCKET: 'b', AWS_REGION: 'auto' }).backend).toBe('r2');
    expect(createStorageFromEnv({ AWS_S3_BUCKET: 'b', AWS_REGION: 'eu-west-1' }).backend).toBe(
      's3',
    );
  });

  describe.runIf(motoAvailable)('with AWS_S3_BUCKET on moto', () => {
    it('talks to S3 through the environment', async () => {
      const moto = await startMoto();
      try {
        const bucket = await moto.bucket('env');
        const s = createStorageFromEnv({
          AWS_S3_BUCKET: bucket,
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
          S3_ENDPOINT: moto.endpoint,
        });
        expect(s.backend).toBe('s3');
        await s.namespace('logos').put('l.svg', '<svg/>', { contentType: 'image/svg+xml' });
        expect(await s.head('logos/l.svg')).toMatchObject({
          size: 6,
          contentType: 'image/svg+xml',
        });
        expect((await s.health()).available).toBe(true);
        await s.close();
      } finally {
        await moto.stop();
      }
    });
  });
});
