import { type Channel, channel } from 'node:diagnostics_channel';
import { CoreErrorCode, describeError, OrgError } from './errors.js';

/** Removes the listener it was returned for. Calling it twice is harmless. */
export type Unsubscribe = () => void;

/**
 * A map of event names to their one payload object. Written as a constraint on the map's own
 * keys, so that an `interface` (which has no index signature) satisfies it.
 */
export type EventMap<E> = { [K in keyof E]: object };

/** A listener of one event: one payload object, its return value ignored. */
export type Listener<P> = (payload: P) => unknown;

/** What a package exposes of its emitter: subscribe, and see whether anyone listens. */
export interface Events<E extends EventMap<E>> {
  /** Calls `listener` with each `event`'s payload until the returned function is called. */
  on<K extends keyof E & string>(event: K, listener: Listener<E[K]>): Unsubscribe;
  /** Like `on`, for the next `event` only. */
  once<K extends keyof E & string>(event: K, listener: Listener<E[K]>): Unsubscribe;
}

/** The diagnostics channel name of `event` in `pkg`: `org:<package>:<event>`. */
export function channelName(pkg: string, event: string): string {
  return `org:${pkg}:${event}`;
}

/**
 * The typed emitter of every @org package. Each event carries one payload object, which is also
 * published on the `node:diagnostics_channel` named `org:<package>:<event>`. A listener that
 * throws (or returns a promise that rejects) is reported with `process.emitWarning` and never
 * breaks the call that emitted: observers must not take down the path they observe. Unlike
 * `EventEmitter`, an `error` event without listeners is not thrown.
 */
export class Emitter<E extends EventMap<E>> implements Events<E> {
  readonly #pkg: string;
  readonly #listeners = new Map<keyof E, Set<Listener<never>>>();
  readonly #channels = new Map<keyof E, Channel>();

  /** @param pkg the package's short name (`'cache'`), used in channel names and warnings. */
  constructor(pkg: string) {
    this.#pkg = pkg;
  }

  on<K extends keyof E & string>(event: K, listener: Listener<E[K]>): Unsubscribe {
    if (typeof listener !== 'function') {
      throw new OrgError(
        CoreErrorCode.InvalidArgument,
        `on("${event}", listener): listener must be a function`,
      );
    }
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    // A wrapper per subscription, so the same function subscribed twice is two subscriptions.
    const entry: Listener<never> = (p) => listener(p as E[K]);
    set.add(entry);
    return () => {
      set.delete(entry);
    };
  }

  once<K extends keyof E & string>(event: K, listener: Listener<E[K]>): Unsubscribe {
    const off = this.on(event, (payload) => {
      off();
      return listener(payload);
    });
    return off;
  }

  /**
   * The diagnostics channel `event` is published on: a hot path may hold it and read
   * `hasSubscribers` itself, the cheapest "is anyone there?" there is.
   */
  channel(event: keyof E & string): Channel {
    return this.#channel(event);
  }

  /** Whether `event` has listeners or channel subscribers: lets hot paths skip a payload. */
  has(event: keyof E & string): boolean {
    return (this.#listeners.get(event)?.size ?? 0) > 0 || this.#channel(event).hasSubscribers;
  }

  /** Calls every listener of `event` with `payload` and publishes it on the event's channel. */
  emit<K extends keyof E & string>(event: K, payload: E[K]): void {
    const ch = this.#channel(event);
    if (ch.hasSubscribers) {
      try {
        ch.publish(payload);
      } catch (err) {
        this.#warn(event, err);
      }
    }
    const set = this.#listeners.get(event);
    if (!set || set.size === 0) return;
    // A Set visits entries added during the loop and skips deleted ones: no copy per emit.
    for (const listener of set) {
      try {
        const result = (listener as Listener<E[K]>)(payload);
        if (isThenable(result)) result.then(undefined, (err: unknown) => this.#warn(event, err));
      } catch (err) {
        this.#warn(event, err);
      }
    }
  }

  /** Removes every listener (channel subscribers are the subscriber's to remove). */
  clear(): void {
    this.#listeners.clear();
  }

  #channel(event: keyof E & string): Channel {
    let ch = this.#channels.get(event);
    if (!ch) {
      ch = channel(channelName(this.#pkg, event));
      this.#channels.set(event, ch);
    }
    return ch;
  }

  #warn(event: string, err: unknown): void {
    process.emitWarning(`@org/${this.#pkg}: a "${event}" listener threw: ${describeError(err)}`, {
      type: 'OrgListenerWarning',
      code: 'ORG_LISTENER_ERROR',
    });
  }
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function'
  );
}
