import { linkSignals, TimeoutError } from '@org/core';

/**
 * One attempt through a breaker, and the context its function receives. The AbortController
 * behind `signal` is made only when the function reads `signal`: most calls never time out,
 * and a controller per call is the largest cost a breaker would otherwise add to a fast call.
 * Each attempt gets its own controller, chained to the caller's signal (never one shared by
 * every call, which stays aborted after the first timeout: opossum issue 861).
 */
export class Attempt {
  private controller: AbortController | undefined;
  private unlink: (() => void) | undefined;

  constructor(
    private readonly run: (ctx: Attempt, ...args: never[]) => unknown,
    private readonly args: readonly unknown[],
    /** 1 for the first attempt, 2 for the first retry, … */
    readonly attempt: number,
    private readonly parent: AbortSignal | undefined,
    /** Whether this attempt is a half-open probe. */
    readonly probe: boolean,
  ) {}

  /** Aborts when this attempt times out or the caller aborts. */
  get signal(): AbortSignal {
    if (!this.controller) {
      const link = linkSignals(this.parent);
      this.controller = link.controller;
      this.unlink = link.dispose;
    }
    return this.controller.signal;
  }

  exec(): Promise<unknown> {
    const args = this.args as never[];
    // Direct calls for the common arities: a spread per call shows in a breaker's overhead.
    const r =
      args.length === 0
        ? this.run(this)
        : args.length === 1
          ? this.run(this, args[0] as never)
          : this.run(this, ...args);
    return r instanceof Promise ? r : Promise.resolve(r);
  }

  /** Aborts the attempt's signal, if anyone asked for it. */
  abort(reason: unknown): void {
    this.controller?.abort(reason);
    this.done();
  }

  /** Unlinks from the caller's signal. */
  done(): void {
    this.unlink?.();
    this.unlink = undefined;
  }
}

/**
 * Turns opossum's timeout error into core's `TimeoutError` in place. opossum rejects the caller
 * with the very object it hands to its `timeout` listeners, so changing it there costs nothing
 * on calls that succeed, where wrapping every call's promise would.
 */
export function toTimeoutError(err: unknown, timeoutMs: number, breaker: string): TimeoutError {
  const model = new TimeoutError(timeoutMs, `A call through breaker "${breaker}"`, {
    hint: "raise the breaker's `timeout` if the upstream is legitimately slower",
  });
  if (typeof err !== 'object' || err === null) return model;
  Object.setPrototypeOf(err, TimeoutError.prototype);
  for (const key of Reflect.ownKeys(model)) {
    if (key === 'stack') continue;
    Object.defineProperty(
      err,
      key,
      Object.getOwnPropertyDescriptor(model, key) as PropertyDescriptor,
    );
  }
  return err as TimeoutError;
}
