/**
 * What the cache hands `CacheDriver.set`. Not options a user writes: values the cache has already
 * resolved, so times are plain milliseconds with the unit in the name, as results are.
 */
export interface DriverSetArgs {
  /** Lifetime in milliseconds; the entry is gone after it. @default no expiry */
  ttlMs?: number | undefined;
  /** Tags to index the key under, for `deleteByTag`. */
  tags?: readonly string[] | undefined;
}

/** What the cache hands `CacheDriver.commit`: a `set`, plus what a write ends with. */
export interface DriverCommitArgs extends DriverSetArgs {
  /** Release this lock if it still holds `token` (the end of a load). */
  unlock?: { key: string; token: string } | undefined;
  /** Publish `message` on `channel` once the value is stored. */
  publish?: { channel: string; message: string } | undefined;
}

/** What `CacheDriver.getOrLock` found: the value, or whether the lock was taken. */
export type GetOrLockResult =
  | { value: string; locked: false }
  | { value: undefined; locked: boolean };

/** Handlers of a driver's invalidation channel. */
export interface BusHandlers {
  /** A message published by any instance (including this one). */
  onMessage(message: string): void;
  /** The subscription is live (again). Messages may have been lost while it was down. */
  onUp(): void;
  /** The subscription dropped: invalidations from other instances are no longer seen. */
  onDown(): void;
}

/**
 * A storage backend: a string key-value store. Keys arrive fully namespaced, may hold any
 * character, and must be stored as given. Five members are required; the optional ones are
 * declared here so that the cache checks for them instead of assuming them:
 *
 * - `deleteByTag` for tags, `lock`/`unlock` for cross-instance stampede protection,
 * - `publish`/`subscribe` for cross-instance L1 invalidation,
 * - `ping` for `health()` and the recovery probe, `close` for shutdown.
 *
 * Drivers may throw or reject on failure; the cache catches, times out and reports.
 */
export interface CacheDriver {
  /** Short backend name for `health().backend`, e.g. `redis`, `memory`. */
  readonly name: string;
  /** The stored string, or undefined when absent or expired. */
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, options?: DriverSetArgs): Promise<void>;
  /** Deletes `key`; true when it existed. */
  delete(key: string): Promise<boolean>;
  /** Deletes every key starting with `prefix`. */
  clear(prefix: string): Promise<void>;

  /** Deletes every key set with `tag`; returns the keys deleted. */
  deleteByTag?(tag: string): Promise<string[]>;
  /** Takes `key` for `ttlMs` if free (SET NX PX); true when taken by this `token`. */
  lock?(key: string, token: string, ttlMs: number): Promise<boolean>;
  /** Releases `key` only if it still holds `token`; true when released. */
  unlock?(key: string, token: string): Promise<boolean>;
  /**
   * In one step: the value of `key` when it is there; otherwise takes `lockKey` for `ttlMs` if it
   * is free (like `lock`). Lets a cold `getOrSet` read and lock in one round trip.
   */
  getOrLock?(key: string, lockKey: string, token: string, ttlMs: number): Promise<GetOrLockResult>;
  /**
   * `set`, then the lock release and the publish, in one step (one round trip on Redis), in
   * that order: a waiter woken by the message finds the value.
   */
  commit?(key: string, value: string, options: DriverCommitArgs): Promise<void>;
  /** Sends `message` to every subscriber of `channel`, on every instance. */
  publish?(channel: string, message: string): Promise<void>;
  /** Listens on `channel`; resolves once subscribed (or failed) to a function that stops it. */
  subscribe?(channel: string, handlers: BusHandlers): Promise<() => Promise<void>>;
  /** Whether the backend is believed usable now; lets the cache skip a dead one without waiting. */
  isReady?(): boolean;
  /**
   * The deadline (ms) within which a `get`, `delete`, `lock` or `publish` started now settles
   * on its own (each is one command), or undefined when the driver cannot promise one now. When
   * it is at most `timeouts.command`, the cache arms no timer of its own for those calls.
   */
  commandDeadline?(): number | undefined;
  /** Round-trips to the backend; rejects when it does not answer. */
  ping?(): Promise<void>;
  /** Releases what the driver opened (not clients handed to it). */
  close?(): Promise<void>;
}
