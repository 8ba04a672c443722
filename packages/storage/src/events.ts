import { channelName, Emitter, isOrgError, type Listener } from '@org/core';

/**
 * What a storage emits, one payload object per event, each also published on the
 * `node:diagnostics_channel` named `org:storage:<event>`.
 */
// A type, not an interface: core's `EventMap` needs the index signature a type alias has.
export type StorageEvents = {
  /** After each call: which, how long, and the error code when it failed. */
  operation: {
    op: string;
    key?: string;
    /** How long the call took, in milliseconds. */
    durationMs: number;
    ok: boolean;
    /** The `code` of the error the call failed with (`ERR_STORAGE_…`, `ERR_ABORTED`, `ERR_TIMEOUT`). */
    code?: string;
  };
  /** Before an S3 retry: the attempt that failed (1 = first), the wait before the next and the error. */
  retry: {
    attempt: number;
    /** The wait before the next attempt, in milliseconds. */
    delayMs: number;
    error: unknown;
  };
};

/** Listener of one event. */
export type StorageListener<E extends keyof StorageEvents> = Listener<StorageEvents[E]>;

/** The diagnostics channel of the `operation` event: `org:storage:operation`. */
export const OPERATION_CHANNEL = channelName('storage', 'operation');
/** The diagnostics channel of the `retry` event: `org:storage:retry`. */
export const RETRY_CHANNEL = channelName('storage', 'retry');

/** The emitter of one storage (shared by its namespaces), with `track` for the operation event. */
export class StorageEmitter extends Emitter<StorageEvents> {
  constructor() {
    super('storage');
  }

  /** Runs `fn`, then emits `operation` with its outcome. */
  async track<T>(op: string, key: string | undefined, fn: () => Promise<T>): Promise<T> {
    if (!this.has('operation')) return fn();
    const started = performance.now();
    const done = (ok: boolean, err?: unknown) => {
      const payload: StorageEvents['operation'] = {
        op,
        durationMs: performance.now() - started,
        ok,
      };
      if (key !== undefined) payload.key = key;
      if (isOrgError(err)) payload.code = err.code;
      this.emit('operation', payload);
    };
    try {
      const r = await fn();
      done(true);
      return r;
    } catch (err) {
      done(false, err);
      throw err;
    }
  }
}
