import { abortReason } from '@org/core';

/**
 * Caps concurrent calls; up to `maxQueue` more wait in FIFO order. Returns false from `acquire`
 * when both are full, so the caller can refuse at once instead of piling up work.
 */
export class Bulkhead {
  private active = 0;
  private readonly queue: { resolve: () => void; reject: (e: unknown) => void }[] = [];

  constructor(
    readonly maxConcurrent: number,
    private readonly maxQueue: number,
  ) {}

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Resolves when a slot is held; false when none is free and the queue is full. */
  acquire(signal?: AbortSignal): boolean | Promise<boolean> {
    if (this.active < this.maxConcurrent) {
      this.active++;
      return true;
    }
    if (this.queue.length >= this.maxQueue) return false;
    return new Promise<boolean>((resolve, reject) => {
      const entry = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(true);
        },
        reject,
      };
      const onAbort = () => {
        const i = this.queue.indexOf(entry);
        if (i >= 0) this.queue.splice(i, 1);
        if (signal) reject(abortReason(signal));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(entry);
    });
  }

  release(): void {
    const next = this.queue.shift();
    // The slot passes straight to the next waiter, so `active` stays the same.
    if (next) next.resolve();
    else this.active--;
  }
}
