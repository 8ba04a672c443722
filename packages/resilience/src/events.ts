/** Removes the listener it was returned for. */
export type Unsubscribe = () => void;

/**
 * A minimal typed emitter: `on(event, listener)` returns its own unsubscribe function. A
 * listener that throws is reported on `process.emitWarning` and never breaks the call that
 * emitted, since observers (alerts, metrics) must not take down the path they observe.
 */
export class Emitter<Events extends { [K in keyof Events]: (...args: never[]) => void }> {
  private readonly listeners = new Map<keyof Events, Set<Events[keyof Events]>>();

  on<K extends keyof Events>(event: K, listener: Events[K]): Unsubscribe {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  /** Whether anyone listens to `event`; lets hot paths skip building an event's payload. */
  has(event: keyof Events): boolean {
    return (this.listeners.get(event)?.size ?? 0) > 0;
  }

  emit<K extends keyof Events>(event: K, ...args: Parameters<Events[K]>): void {
    const set = this.listeners.get(event);
    if (!set || set.size === 0) return;
    for (const listener of set) {
      try {
        (listener as (...a: Parameters<Events[K]>) => void)(...args);
      } catch (err) {
        process.emitWarning(
          `@org/resilience: a "${String(event)}" listener threw: ${(err as Error)?.message}`,
        );
      }
    }
  }

  clear(): void {
    this.listeners.clear();
  }
}
