import type { Transform } from 'node:stream';
import { abortReason } from '@org/core';
import { invalidOption } from './errors.js';

/** The `signal` option of every stream factory. */
export interface StreamSignalOption {
  /**
   * Stops the stream: it errors with core's `AbortedError` (`ERR_ABORTED`, `cause` = the
   * signal's reason), so that a pipeline through it rejects with that error, as every @org call
   * does when aborted. Without it, `pipeline(..., { signal })` rejects with Node's `AbortError`.
   */
  signal?: AbortSignal | undefined;
}

/** @internal The `signal` option, checked. */
export function checkSignal(signal: unknown): AbortSignal | undefined {
  if (signal === undefined || signal instanceof AbortSignal) return signal;
  throw invalidOption('`signal` must be an AbortSignal');
}

/**
 * @internal Calls `fail` with core's `AbortedError` (or `TimeoutError`, for
 * `AbortSignal.timeout()`) when `signal` fires, at once if it has; returns the unlinking function.
 */
export function onAbort(
  signal: AbortSignal | undefined,
  what: string,
  fail: (err: Error) => void,
): () => void {
  if (signal === undefined) return () => {};
  const abort = () => fail(abortReason(signal, what));
  if (signal.aborted) {
    queueMicrotask(abort);
    return () => {};
  }
  signal.addEventListener('abort', abort, { once: true });
  return () => signal.removeEventListener('abort', abort);
}

/** @internal Destroys `stream` with core's abort error when `signal` fires. */
export function bindSignal<T extends Transform>(
  stream: T,
  signal: AbortSignal | undefined,
  what: string,
): T {
  const unlink = onAbort(signal, what, (err) => stream.destroy(err));
  stream.once('close', unlink);
  return stream;
}
