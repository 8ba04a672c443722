import type { Duration } from '@org/core';
import { check, invalidOption, missingPeer } from '../errors.js';
import type { HealthCheck } from '../types.js';

/** What the S3 check needs of an `S3Client`: `send(command, { abortSignal })`. */
export interface S3Sender {
  send(command: never, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
}

/** Options of `s3Check`. */
export interface S3CheckOptions {
  /** The `S3Client` the service already holds (never destroyed by the check). */
  client: S3Sender;
  /** The bucket that must exist and be reachable. */
  bucket: string;
  /** @default 800 (ms; createHealth's `timeout`) */
  timeout?: Duration | undefined;
  /** @default true */
  critical?: boolean | undefined;
}

type HeadBucketCtor = new (input: { Bucket: string }) => unknown;
let HeadBucket: Promise<HeadBucketCtor> | undefined;

/** Checks an S3 bucket with HeadBucket through the service's own `S3Client`. */
export function s3Check(options: S3CheckOptions): HealthCheck {
  const o = check.object(options, 'options');
  if (typeof o.client?.send !== 'function') {
    throw invalidOption('`client` must be an S3Client (anything with send())');
  }
  const { client } = o;
  const bucket = check.string(o.bucket, 'bucket');
  if (bucket === undefined) throw invalidOption('`bucket` is required: the bucket to HEAD');
  const timeout = check.duration(o.timeout, 'timeout', undefined, { min: 1 });
  const critical = check.boolean(o.critical, 'critical');
  return {
    componentType: 'datastore',
    ...(timeout === undefined ? {} : { timeout }),
    ...(critical === undefined ? {} : { critical }),
    async check(signal) {
      // Loaded on first use from the user's install, so the SDK stays an optional peer.
      HeadBucket ??= import('@aws-sdk/client-s3').then(
        (m) => m.HeadBucketCommand as HeadBucketCtor,
        (cause: unknown) => {
          HeadBucket = undefined; // installed later, the next run finds it
          throw missingPeer(
            's3Check needs the optional peer dependency `@aws-sdk/client-s3`: run `npm install @aws-sdk/client-s3`.',
            cause,
          );
        },
      );
      const command = new (await HeadBucket)({ Bucket: bucket });
      await client.send(command as never, { abortSignal: signal });
    },
  };
}
