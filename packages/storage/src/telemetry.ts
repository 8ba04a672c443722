/**
 * Storage's OpenTelemetry instruments and spans (recorded only when the app registers an SDK;
 * see `createTelemetry` in @org/core). Attributes are the driver, the operation, the bucket and
 * the error code: never a key.
 */
import {
  createTelemetry,
  DURATION_BOUNDARIES,
  errorType,
  type TelemetryAttributes,
  type TelemetrySpan,
} from '@org/core';

export const telemetry = createTelemetry(
  { name: '@org/storage' },
  {
    duration: {
      kind: 'histogram',
      name: 'org.storage.operation.duration',
      unit: 's',
      description:
        'Duration of storage calls (a stream call: to its first byte), by driver and operation.',
      boundaries: DURATION_BOUNDARIES,
    },
    bytes: {
      kind: 'counter',
      name: 'org.storage.bytes',
      unit: 'By',
      description: 'Bytes stored by put() and read by getBuffer(), by driver and operation.',
    },
    retries: {
      kind: 'counter',
      name: 'org.storage.retries',
      unit: '{retry}',
      description: 'Requests to S3 sent again after a transient failure, by driver and error.',
    },
  },
);

/** The attributes of every span of a storage: its driver, and for S3 its bucket. */
export function storageSpanAttributes(driver: string, bucket: unknown): TelemetryAttributes {
  const attributes: TelemetryAttributes = { 'org.storage.driver': driver };
  if (driver === 's3' || driver === 'r2') {
    attributes['rpc.system'] = 'aws-api';
    attributes['rpc.service'] = 'S3';
    if (typeof bucket === 'string' && bucket !== '') attributes['aws.s3.bucket'] = bucket;
  }
  return attributes;
}

/**
 * Runs one storage call in a span `storage <op>` (a child of the caller's) and records its
 * duration; a plain call when no SDK is registered.
 */
export function observeOperation<T>(
  base: TelemetryAttributes,
  op: string,
  fn: (span: TelemetrySpan | undefined) => Promise<T>,
): Promise<T> {
  if (!telemetry.enabled()) return fn(undefined);
  const driver = base['org.storage.driver'] as string;
  return telemetry.observe(
    `storage ${op}`,
    { ...base, 'org.storage.operation': op },
    fn,
    (m, seconds, err) =>
      m.duration.record(seconds, {
        'org.storage.driver': driver,
        'org.storage.operation': op,
        ...(err === undefined ? {} : { 'error.type': errorType(err) }),
      }),
    { kind: driver === 'local' ? 'internal' : 'client' },
  );
}

/** Counts bytes stored (`put`) or read (`get`). */
export function recordBytes(driver: string, op: 'put' | 'get', bytes: number): void {
  telemetry.metrics()?.bytes.add(bytes, {
    'org.storage.driver': driver,
    'org.storage.operation': op,
  });
}

/** Counts one S3 retry. */
export function recordRetry(driver: string, err: unknown): void {
  telemetry
    .metrics()
    ?.retries.add(1, { 'org.storage.driver': driver, 'error.type': errorType(err) });
}
