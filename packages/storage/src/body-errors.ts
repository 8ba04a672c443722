import { Readable } from 'node:stream';
import { isOrgError, type OrgError } from '@org/core';
import type { ChunkReader } from './chunk-reader.js';
import { StorageError, StorageErrorCode } from './errors.js';
import type { Body, PutOptions, PutResult, StorageDriver } from './types.js';

/**
 * The error of a put whose body failed before it ended (the client went away mid-upload, the
 * app's own size-limit stream errored): `ERR_STORAGE_BODY` with the body's error as `cause`, or
 * that error itself, unchanged, when it already is an `OrgError` (the app's own code stands).
 * Nothing is stored by such a put. Never the backend's fault, so never `ERR_STORAGE_BACKEND`.
 */
export function bodyFailed(cause: unknown, key: string): OrgError {
  if (isOrgError(cause)) return cause;
  const e = cause as (Error & { code?: unknown }) | undefined;
  const what = typeof e?.code === 'string' ? e.code : (e?.message ?? String(cause));
  return new StorageError(
    StorageErrorCode.Body,
    `The upload body of "${key}" failed before it ended (${what}); nothing was stored: see the cause (the client went away, or the stream the app passed errored)`,
    { key, cause },
  );
}

/** Which part of a put's stream chain failed first. */
export interface FirstFailure {
  /** Undefined until a watched stream errors. */
  readonly first: { error: unknown; body: boolean } | undefined;
}

/**
 * Notes which stream of a chain (the body, then what it is piped into) errors first: a pipeline
 * hands one stream's error on to every other one, so the error alone cannot say where it began.
 */
export function watchFirstFailure(body: Readable, ...others: NodeJS.EventEmitter[]): FirstFailure {
  const watch: { first: FirstFailure['first'] } = { first: undefined };
  body.on('error', (error: unknown) => {
    watch.first ??= { error, body: true };
  });
  for (const s of others) {
    s.on('error', (error: unknown) => {
      watch.first ??= { error, body: false };
    });
  }
  return watch;
}

/**
 * Whether a put's failure began in its body: the body errored first, or it closed before its end
 * (a destroyed request) while nothing else had failed.
 */
export function failedInBody(body: Readable, watch: FirstFailure): boolean {
  if (watch.first !== undefined) return watch.first.body;
  return body.destroyed && !body.readableEnded;
}

/** A reader whose rejections (the body's own failures) are kept, to tell them from the backend's. */
export function trackedReader(reader: ChunkReader): ChunkReader & {
  readonly failure: { error: unknown } | undefined;
} {
  const tracked = {
    failure: undefined as { error: unknown } | undefined,
    next: () =>
      reader.next().catch((error: unknown) => {
        tracked.failure ??= { error };
        throw error;
      }),
  };
  return tracked;
}

/**
 * Calls `driver.put`, and reports a body that failed as {@link bodyFailed} even for a driver that
 * rejects with the body's own error as is (a driver of the app's, say): a rejection that is the
 * very error the body emitted is the body's, whatever the driver.
 */
export async function putWithBodyErrors(
  driver: StorageDriver,
  key: string,
  body: Body,
  options: PutOptions,
): Promise<PutResult> {
  if (!(body instanceof Readable)) return driver.put(key, body, options);
  let bodyError: { error: unknown } | undefined;
  const onError = (error: unknown) => {
    bodyError ??= { error };
  };
  body.on('error', onError);
  try {
    return await driver.put(key, body, options);
  } catch (err) {
    if (!options.signal?.aborted && bodyError !== undefined && err === bodyError.error) {
      throw bodyFailed(err, key);
    }
    throw err;
  } finally {
    body.off('error', onError);
  }
}
