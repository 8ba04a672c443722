import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { hasCommand, programAvailable, startMotoServer } from '@org/test-utils';

/** Whether moto_server can run here (skips with a message; fails in CI). */
export const motoAvailable = await programAvailable('moto_server', () => hasCommand('moto_server'));

export const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

/**
 * How the SDK reaches a moto server, or a proxy in front of one: path-style, dummy credentials.
 * Fits both an `S3Client` config and the storage's `s3` options.
 */
export const motoConnection = (endpoint: string) => ({
  endpoint,
  region: 'us-east-1',
  forcePathStyle: true,
  credentials,
});

/** A moto server of this suite's own, with helpers to make buckets on it. */
export async function startMoto(options: Parameters<typeof startMotoServer>[0] = {}) {
  const moto = await startMotoServer(options);
  const admin = new S3Client(motoConnection(moto.endpoint));
  let n = 0;
  return {
    endpoint: moto.endpoint,
    admin,
    async bucket(prefix = 'bucket'): Promise<string> {
      const name = `${prefix}-${process.pid}-${++n}`;
      await admin.send(new CreateBucketCommand({ Bucket: name }));
      return name;
    },
    async stop() {
      admin.destroy();
      await moto.stop();
    },
  };
}
