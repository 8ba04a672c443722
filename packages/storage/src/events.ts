import { channel } from 'node:diagnostics_channel';
import { isStorageError } from './errors.js';

/** What a storage emits: `on(event, listener)` returns an unsubscribe function. */
export interface StorageEvents {
  /** After each call: which, how long (ms), and the error code when it failed. */
  operation: { op: string; key?: string; durationMs: number; ok: boolean; code?: string };
  /** Before an S3 retry: the attempt that failed (1 = first), the delay (ms) and the error. */
  retry: { attempt: number; delay: number; error: unknown };
}

/** Listener of one event. */
export type StorageListener<E extends keyof StorageEvents> = (payload: StorageEvents[E]) => void;

/** `node:diagnostics_channel` name on which every `operation` event is also published. */
export const OPERATION_CHANNEL = 'org:storage:operation';
const operationChannel = channel(OPERATION_CHANNEL);

/** A small typed emitter; a throwing listener never breaks the call that emitted. */
export function createEmitter() {
  const listeners: { [E in keyof StorageEvents]: Set<StorageListener<E>> } = {
    operation: new Set(),
    retry: new Set(),
  };
  return {
    on<E extends keyof StorageEvents>(event: E, listener: StorageListener<E>): () => void {
      const set = listeners[event] as Set<StorageListener<E>>;
      set.add(listener);
      return () => set.delete(listener);
    },
    emit<E extends keyof StorageEvents>(event: E, payload: StorageEvents[E]): void {
      if (event === 'operation' && operationChannel.hasSubscribers)
        operationChannel.publish(payload);
      for (const l of listeners[event] as Set<StorageListener<E>>) {
        try {
          l(payload);
        } catch {
          // A listener's failure is its own.
        }
      }
    },
    /** Runs `fn`, then emits `operation` with its outcome. */
    async track<T>(op: string, key: string | undefined, fn: () => Promise<T>): Promise<T> {
      const started = performance.now();
      const done = (ok: boolean, err?: unknown) => {
        const payload: StorageEvents['operation'] = {
          op,
          durationMs: performance.now() - started,
          ok,
        };
        if (key !== undefined) payload.key = key;
        if (isStorageError(err)) payload.code = err.code;
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
    },
  };
}

export type Emitter = ReturnType<typeof createEmitter>;
