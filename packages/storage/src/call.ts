import { abortError, StorageError, StorageErrorCode } from './errors.js';

/** Default bound of a call, in milliseconds. */
export const DEFAULT_TIMEOUT = 30_000;

/**
 * Runs `fn` with a signal that aborts on the caller's `signal` or after `timeout` ms, and
 * rejects at that moment even when the backend does not react to the signal, so that the
 * caller's await is always bounded. The timer is cleared when `fn` settles.
 */
export async function bounded<T>(
  what: string,
  timeout: number | undefined,
  signal: AbortSignal | undefined,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  if (signal?.aborted) throw abortError(signal, what);
  const ctrl = new AbortController();
  const onAbort = () => ctrl.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  if (timeout !== undefined && Number.isFinite(timeout)) {
    if (!(timeout > 0)) {
      throw new StorageError(
        StorageErrorCode.INVALID_OPTIONS,
        `timeout must be > 0 ms, got ${timeout}`,
      );
    }
    timer = setTimeout(
      () => ctrl.abort(new DOMException(`${what} timed out after ${timeout} ms`, 'TimeoutError')),
      timeout,
    );
  }
  let rejectOnAbort: ((err: unknown) => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    rejectOnAbort = reject;
  });
  const onInner = () => rejectOnAbort?.(abortError(ctrl.signal, what));
  ctrl.signal.addEventListener('abort', onInner, { once: true });
  try {
    return await Promise.race([fn(ctrl.signal), aborted]);
  } catch (err) {
    if (
      ctrl.signal.aborted &&
      !(err instanceof StorageError && err.code !== StorageErrorCode.ABORTED)
    ) {
      throw abortError(ctrl.signal, what);
    }
    throw err;
  } finally {
    // The caller's signal stays linked: a stream handed back must still stop when it aborts.
    clearTimeout(timer);
    ctrl.signal.removeEventListener('abort', onInner);
  }
}
