import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { createHealth } from '@org/health';
import { s3Check } from '@org/health/s3';
import { hasCommand, programAvailable, startMotoServer } from '@org/test-utils';
import { describe, expect, it } from 'vitest';

describe.runIf(await programAvailable('moto_server', () => hasCommand('moto_server')))(
  's3Check against moto',
  () => {
    it('passes for an existing bucket, fails for a missing one and when S3 is gone', async () => {
      const moto = await startMotoServer();
      const client = new S3Client({
        endpoint: moto.endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        maxAttempts: 1,
        credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'dummy-secret-key' },
      });
      try {
        await client.send(new CreateBucketCommand({ Bucket: 'health-bucket' }));
        const health = createHealth({
          checks: {
            bucket: s3Check({ client, bucket: 'health-bucket', timeout: 2_000 }),
            missing: s3Check({ client, bucket: 'no-such-bucket', timeout: 2_000, critical: false }),
          },
          deadline: 3_000,
          cache: 0,
        });
        const r = await health.full();
        expect(r.checks.bucket?.status).toBe('ok');
        expect(r.checks.missing?.status).toBe('fail');
        expect(r.status).toBe('degraded');

        await moto.stop();
        const gone = await health.full();
        expect(gone.checks.bucket?.status).toBe('fail');
        expect(gone.status).toBe('unhealthy');
        expect(JSON.stringify(gone)).not.toContain('dummy-secret-key');
      } finally {
        client.destroy();
        await moto.stop();
      }
    });
  },
);
