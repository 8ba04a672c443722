import { AbortedError, TimeoutError } from './errors.js';

/**
 * A fresh controller for one attempt, aborted when the caller's signal aborts. A fresh one per
 * attempt matters: a controller shared across calls stays aborted after the first timeout and
 * breaks every later call (opossum issue 861). Returns a `dispose` that unlinks it from the
 * parent, so long-lived caller signals do not collect listeners.
 */
export function childController(parent: AbortSignal | undefined): {
  controller: AbortController;
  dispose: () => void;
} {
  const controller = new AbortController();
  if (!parent) return { controller, dispose: noop };
  if (parent.aborted) {
    controller.abort(parent.reason);
    return { controller, dispose: noop };
  }
  const onAbort = () => controller.abort(parent.reason);
  parent.addEventListener('abort', onAbort, { once: true });
  return { controller, dispose: () => parent.removeEventListener('abort', onAbort) };
}

function noop(): void {}

/** Throws AbortedError (with the signal's reason as cause) when `signal` has fired. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortedError(signal.reason);
}

/**
 * Runs `fn` with a signal that aborts after `timeoutMs` or when `parent` aborts, and rejects
 * with TimeoutError at the deadline even when `fn` ignores its signal and never settles: the
 * caller's await is bounded whatever the operation does. The timer is not unref'd, since it
 * bounds an await the caller is making.
 */
export function withTimeout<T>(
  fn: (signal: AbortSignal) => Promise<T> | T,
  timeoutMs: number | false,
  parent: AbortSignal | undefined,
  what?: string,
): Promise<T> {
  const { controller, dispose } = childController(parent);
  const signal = controller.signal;
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const settle = () => {
      if (timer) clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      dispose();
    };
    const onAbort = () => {
      settle();
      reject(new AbortedError(signal.reason));
    };
    if (signal.aborted) return reject(new AbortedError(signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
    if (timeoutMs !== false) {
      timer = setTimeout(() => {
        settle();
        const err = new TimeoutError(timeoutMs, what);
        controller.abort(err);
        reject(err);
      }, timeoutMs);
    }
    let result: Promise<T> | T;
    try {
      result = fn(signal);
    } catch (err) {
      settle();
      return reject(err);
    }
    Promise.resolve(result).then(
      (v) => {
        settle();
        resolve(v);
      },
      (e) => {
        settle();
        reject(e);
      },
    );
  });
}

/** Sleeps `ms`, or rejects with AbortedError as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortedError(signal.reason));
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortedError(signal?.reason));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Settles with `promise`, or rejects with AbortedError as soon as `signal` aborts, even when
 * the operation behind `promise` ignores its signal and never settles.
 */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(new AbortedError(signal.reason));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      promise.catch(() => {});
      reject(new AbortedError(signal.reason));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
