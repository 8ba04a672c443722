import { ErrorCodes, KeyRingError } from './errors.js';

/**
 * Waits for `promise` at most `ms` and no longer than `signal` allows. A timeout rejects with
 * `ERR_KEYRING_STORE` naming `what`; an abort rejects with the signal's reason. The timer bounds
 * a caller's await, so it is not unref'd.
 */
export function withDeadline<T>(
  promise: Promise<T>,
  ms: number,
  what: string,
  signal?: AbortSignal,
): Promise<T> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new KeyRingError(
            ErrorCodes.STORE,
            `${what} took longer than ${ms} ms; check the key store (or raise storeTimeout)`,
          ),
        ),
      ms,
    );
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
