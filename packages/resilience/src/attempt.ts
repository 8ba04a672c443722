import { linkSignals } from '@org/core';

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

  /** Calls the function; its result as it is (a promise, or a plain value). */
  exec(): unknown {
    const args = this.args as never[];
    // Direct calls for the common arities: a spread per call shows in a breaker's overhead.
    return args.length === 0
      ? this.run(this)
      : args.length === 1
        ? this.run(this, args[0] as never)
        : this.run(this, ...args);
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
