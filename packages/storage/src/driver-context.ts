import { createLocalDriver } from './drivers/local.js';
import type { RetryInfo, S3DriverOptions } from './drivers/s3-options.js';
import { check, invalidOption } from './errors.js';
import type { StorageEmitter } from './events.js';
import type { SignedUrlHandler, StorageHandlerOptions } from './handler.js';
import { keyProblem } from './keys.js';
import type { StorageOptions } from './storage.js';
import type { StorageDriver } from './types.js';

type HandlerDriver = StorageDriver & {
  handler?: (options?: StorageHandlerOptions) => SignedUrlHandler;
};

/** What a storage and its namespaces share. */
export interface Ctx {
  getDriver: () => Promise<StorageDriver>;
  /** The driver once it exists: `close()` does not create one to close it. */
  loaded: () => Promise<StorageDriver> | undefined;
  backend: string;
  /** The driver's own signed-URL handler, when it has one (local driver). */
  handler: ((options?: StorageHandlerOptions) => SignedUrlHandler) | undefined;
  allowed: readonly string[] | undefined;
  timeoutMs: number;
  events: StorageEmitter;
  closed: boolean;
  /** The attributes of this storage's spans (driver, bucket), set once at creation. */
  spanAttributes?: Record<string, string | number | boolean>;
}

function loadS3(options: S3DriverOptions): () => Promise<StorageDriver> {
  let driver: Promise<StorageDriver> | undefined;
  return () => {
    driver ??= import('@org/storage/s3').then(
      (m) => m.createS3Driver(options),
      (err: unknown) => {
        driver = undefined;
        throw invalidOption(
          'S3 storage needs @aws-sdk/client-s3 and @aws-sdk/s3-request-presigner: install them',
          err,
        );
      },
    );
    return driver;
  };
}

/** The app's namespaces, checked: each one valid key segment. */
export function checkNamespaces(value: unknown): readonly string[] | undefined {
  if (value === undefined) return undefined;
  const ok =
    Array.isArray(value) &&
    value.every((n) => typeof n === 'string' && keyProblem(n) === undefined && !n.includes('/'));
  if (!ok) {
    throw invalidOption(
      '`namespaces` must be an array of names that are each one valid key segment, such as ["pdfs", "uploads"]',
    );
  }
  return [...(value as string[])];
}

/** The driver of `options` (S3 loaded on first use), its backend name and its handler, if any. */
export function driverCtx(options: StorageOptions, events: StorageEmitter) {
  if (options.driver !== undefined) {
    const d = options.driver as HandlerDriver;
    if (typeof d !== 'object' || d === null || typeof d.put !== 'function') {
      throw invalidOption(
        '`driver` must be a StorageDriver (see createLocalDriver, createS3Driver)',
      );
    }
    const ready = Promise.resolve<StorageDriver>(d);
    const handler =
      typeof d.handler === 'function' ? (o?: StorageHandlerOptions) => d.handler!(o) : undefined;
    return { getDriver: () => ready, loaded: () => ready, backend: d.name, handler };
  }
  if (options.s3 !== undefined) {
    const s3 = check.object(options.s3, 's3');
    if (check.string(s3.bucket, 's3.bucket') === undefined) {
      throw invalidOption('S3 storage needs `s3.bucket` (AWS_S3_BUCKET)');
    }
    const userOnRetry = check.func<(info: RetryInfo) => void>(
      s3.retry?.onRetry,
      's3.retry.onRetry',
    );
    const load = loadS3({
      ...s3,
      retry: {
        ...s3.retry,
        onRetry: (info) => {
          events.emit('retry', info);
          userOnRetry?.(info);
        },
      },
    });
    let started: Promise<StorageDriver> | undefined;
    const getDriver = () => {
      started = load();
      return started;
    };
    return {
      getDriver,
      loaded: () => started,
      backend: s3.profile === 'r2' ? 'r2' : 's3',
      handler: undefined,
    };
  }
  const d = createLocalDriver(options.local);
  const ready = Promise.resolve<StorageDriver>(d);
  return {
    getDriver: () => ready,
    loaded: () => ready,
    backend: 'local',
    handler: (o?: StorageHandlerOptions) => d.handler(o),
  };
}
