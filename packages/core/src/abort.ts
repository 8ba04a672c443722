import { CoreErrorCode, isOrgError, OrgError } from './errors.js';

/**
 * The caller's AbortSignal fired. Every @org package rejects an aborted call with this error,
 * `code` `ERR_ABORTED`, and the signal's reason as `cause`.
 */
export class AbortedError extends OrgError<'ERR_ABORTED'> {
  override name = 'AbortedError';
  constructor(reason?: unknown, what = 'The operation') {
    super(CoreErrorCode.Aborted, `${what} was aborted by its caller.`, { cause: reason });
  }
}

/**
 * An operation ran past its timeout: `code` `ERR_TIMEOUT`. `timeoutMs` is the bound that was
 * exceeded (undefined when the caller's own `AbortSignal.timeout()` fired).
 */
export class TimeoutError extends OrgError<'ERR_TIMEOUT'> {
  override name = 'TimeoutError';
  /** The timeout that was exceeded, in milliseconds, when known. */
  readonly timeoutMs: number | undefined;
  constructor(
    timeoutMs: number | undefined,
    what = 'The operation',
    options?: { cause?: unknown; hint?: string },
  ) {
    const after = timeoutMs === undefined ? '' : ` after ${timeoutMs} ms`;
    const hint = options?.hint ?? 'raise its `timeout` if the dependency is legitimately slower';
    super(CoreErrorCode.Timeout, `${what} timed out${after}; ${hint}.`, {
      cause: options?.cause,
    });
    this.timeoutMs = timeoutMs;
  }
}

/** Whether `err` is core's {@link AbortedError}, from any package and any copy of core. */
export const isAbortedError = (err: unknown): err is AbortedError =>
  isOrgError(err, CoreErrorCode.Aborted);

/** Whether `err` is core's {@link TimeoutError}, from any package and any copy of core. */
export const isTimeoutError = (err: unknown): err is TimeoutError =>
  isOrgError(err, CoreErrorCode.Timeout);

/**
 * The error an aborted call rejects with, given its signal: the reason itself when it is already
 * an {@link OrgError} (a timeout of ours), a {@link TimeoutError} when the reason is a
 * `TimeoutError` (`AbortSignal.timeout()`), else an {@link AbortedError} carrying the reason.
 */
export function abortReason(signal: AbortSignal, what?: string): OrgError {
  const reason: unknown = signal.reason;
  if (isOrgError(reason)) return reason;
  if (reason instanceof Error && reason.name === 'TimeoutError') {
    return new TimeoutError(undefined, what, { cause: reason });
  }
  return new AbortedError(reason, what);
}

/** Throws what {@link abortReason} gives when `signal` has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, what?: string): void {
  if (signal?.aborted) throw abortReason(signal, what);
}

/** A controller linked to a parent signal, and the function that unlinks it. */
export interface LinkedController {
  readonly controller: AbortController;
  readonly signal: AbortSignal;
  /** Removes the listener on the parents: call it when the operation settles. */
  dispose(): void;
}

function noop(): void {}

/**
 * A fresh controller that aborts (with the same reason) when any of `parents` aborts. Use one per
 * operation: a controller shared across calls stays aborted after the first timeout. `dispose()`
 * unlinks it, so long-lived parent signals do not collect listeners.
 */
export function linkSignals(...parents: (AbortSignal | undefined)[]): LinkedController {
  const controller = new AbortController();
  const signal = controller.signal;
  const live = parents.filter((p): p is AbortSignal => p !== undefined);
  const fired = live.find((p) => p.aborted);
  if (fired) {
    controller.abort(fired.reason);
    return { controller, signal, dispose: noop };
  }
  if (live.length === 0) return { controller, signal, dispose: noop };
  const listeners = live.map((p) => {
    const onAbort = () => controller.abort(p.reason);
    p.addEventListener('abort', onAbort, { once: true });
    return () => p.removeEventListener('abort', onAbort);
  });
  return {
    controller,
    signal,
    dispose: () => {
      for (const off of listeners) off();
    },
  };
}

/**
 * Settles with `promise`, or rejects as soon as `signal` aborts (see {@link abortReason}), even
 * when the operation behind `promise` ignores its signal and never settles. A late rejection of
 * `promise` is absorbed.
 */
export function abortable<T>(
  promise: PromiseLike<T>,
  signal: AbortSignal | undefined,
  what?: string,
): Promise<T> {
  if (!signal) return Promise.resolve(promise);
  if (signal.aborted) {
    Promise.resolve(promise).catch(noop);
    return Promise.reject(abortReason(signal, what));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      Promise.resolve(promise).catch(noop);
      reject(abortReason(signal, what));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    Promise.resolve(promise).then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** Options of {@link withTimeout}. */
export interface WithTimeoutOptions {
  /** The bound in milliseconds; `false` or `Infinity` for none (the signal still applies). */
  timeoutMs: number | false;
  /** The caller's signal: its abort rejects with {@link AbortedError} at once. */
  signal?: AbortSignal | undefined;
  /** What is being done, for messages: `'Redis GET'`. @default 'The operation' */
  what?: string;
  /** The end of the timeout message, saying what to do. */
  hint?: string;
  /**
   * The error to reject with at the deadline, instead of {@link TimeoutError} (a package whose
   * callers expect its own code there). It is also the abort reason `fn`'s signal sees.
   */
  onTimeout?: (timeoutMs: number) => Error;
}

/**
 * Runs `fn` with a signal that aborts at the deadline or when the caller's signal does, and
 * rejects with {@link TimeoutError} at the deadline even when `fn` ignores its signal and never
 * settles: the caller's await is bounded whatever the operation does. The timer bounds an await
 * the caller is making, so it is not `unref()`ed. `fn` is called synchronously.
 */
export function withTimeout<T>(
  fn: (signal: AbortSignal) => PromiseLike<T> | T,
  options: WithTimeoutOptions,
): Promise<T> {
  const { timeoutMs, what, hint, signal: parent } = options;
  if (parent?.aborted) return Promise.reject(abortReason(parent, what));
  // One controller, no listener on it: the timer and the parent's listener reject directly.
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const finish = (): boolean => {
      if (settled) return false;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      parent?.removeEventListener('abort', onAbort);
      return true;
    };
    const onAbort = () => {
      if (!finish()) return;
      controller.abort(parent!.reason);
      reject(abortReason(parent!, what));
    };
    parent?.addEventListener('abort', onAbort, { once: true });
    if (timeoutMs !== false && Number.isFinite(timeoutMs)) {
      timer = setTimeout(() => {
        if (!finish()) return;
        const err =
          options.onTimeout?.(timeoutMs) ??
          new TimeoutError(timeoutMs, what, hint === undefined ? undefined : { hint });
        controller.abort(err);
        reject(err);
      }, timeoutMs);
    }
    let result: PromiseLike<T> | T;
    try {
      result = fn(controller.signal);
    } catch (err) {
      if (finish()) reject(err);
      return;
    }
    if (!isThenable(result)) {
      if (finish()) resolve(result);
      return;
    }
    result.then(
      (v) => {
        if (finish()) resolve(v);
      },
      (e: unknown) => {
        if (finish()) reject(e);
      },
    );
  });
}

function isThenable<T>(v: PromiseLike<T> | T): v is PromiseLike<T> {
  return (
    typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function'
  );
}

/**
 * Resolves after `ms`, or rejects as soon as `signal` aborts. `unref: true` for background waits
 * that must not keep the process alive.
 */
export function sleep(
  ms: number,
  signal?: AbortSignal,
  options: { unref?: boolean } = {},
): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    if (options.unref) timer.unref();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
