import type { HealthCheck } from '../types.js';

/** What the S3 check needs of an `S3Client`: `send(command, { abortSignal })`. */
export interface S3Sender {
  send(command: never, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
}

/** Options of `s3Check`. */
export interface S3CheckOptions {
  /** The `S3Client` the service already holds. */
  client: S3Sender;
  /** The bucket that must exist and be reachable. */
  bucket: string;
  /** @default 800 (the createHealth default) */
  timeout?: number;
  /** @default true */
  critical?: boolean;
}

type HeadBucketCtor = new (input: { Bucket: string }) => unknown;
let HeadBucket: Promise<HeadBucketCtor> | undefined;

/** Checks an S3 bucket with HeadBucket through the service's own `S3Client`. */
export function s3Check(options: S3CheckOptions): HealthCheck {
  return {
    componentType: 'datastore',
    ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
    ...(options.critical === undefined ? {} : { critical: options.critical }),
    async check(signal) {
      // Loaded on first use from the user's install, so the SDK stays an optional peer.
      HeadBucket ??= import('@aws-sdk/client-s3').then(
        (m) => m.HeadBucketCommand as HeadBucketCtor,
      );
      const command = new (await HeadBucket)({ Bucket: options.bucket });
      await options.client.send(command as never, { abortSignal: signal });
    },
  };
}
