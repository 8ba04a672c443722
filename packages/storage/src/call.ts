import { Readable } from 'node:stream';
import { abortReason, linkSignals, withTimeout } from '@org/core';

/** Default bound of a call, in milliseconds (30 s). */
export const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * Runs `fn` under core's `withTimeout`: the caller's await ends at `timeoutMs` (core
 * `TimeoutError`) or when `signal` aborts (core `AbortedError`), even when the backend ignores
 * its signal. `fn` gets a signal linked to both; when `fn` hands back a stream, the link to the
 * caller's signal outlives the call until the stream closes, so that aborting still stops a
 * download that is under way (the timeout bounds the call up to its first byte only).
 */
export function bounded<T>(
  what: string,
  timeoutMs: number | undefined,
  signal: AbortSignal | undefined,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  return withTimeout(
    async (deadline) => {
      const link = linkSignals(signal, deadline);
      let result: T;
      try {
        result = await fn(link.signal);
      } catch (err) {
        link.dispose();
        throw err;
      }
      if (link.signal.aborted) {
        // The caller's await already ended (aborted or timed out): a stream nobody will read is
        // released here, its error (the abort) silenced, instead of keeping a file or a socket.
        if (result instanceof Readable) {
          result.on('error', () => {});
          result.destroy();
        }
        link.dispose();
        throw abortReason(link.signal, `storage ${what}`);
      }
      if (result instanceof Readable && !result.destroyed) {
        result.once('close', () => link.dispose());
      } else {
        link.dispose();
      }
      return result;
    },
    {
      timeoutMs: timeoutMs ?? false,
      signal,
      what: `storage ${what}`,
      hint: 'raise its `timeout` (per call, or the storage-wide `timeout`) if the backend is legitimately slower',
    },
  );
}
