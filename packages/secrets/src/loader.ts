import {
  abortable,
  isOrgError,
  linkSignals,
  TimeoutError,
  throwIfAborted,
  withTimeout,
} from '@org/core';
import { backoffMs, type Entry, EntryCache } from './cache.js';
import { notFound, SecretsError, SecretsErrorCode } from './errors.js';
import type { SecretsEmitter } from './events.js';
import type { ResolvedOptions } from './options.js';
import { type SecretVersion, versionKey } from './provider.js';
import { SecretValue } from './secret-value.js';
import { observeFetch, recordStaleServe } from './telemetry.js';

/** A name resolved against the prefix, with its version and cache key. */
export interface Target {
  name: string;
  bareName: string;
  version: SecretVersion | undefined;
  vkey: string;
  key: string;
}

/**
 * The cache and the provider calls behind it: one call per entry at a time, refreshes ahead of
 * expiry, backoff after failures, the last good value within `maxStale`.
 */
export class Loader {
  readonly cache: EntryCache;
  readonly #o: ResolvedOptions;
  readonly #events: SecretsEmitter;
  readonly #life: ReturnType<typeof linkSignals>;

  constructor(o: ResolvedOptions, events: SecretsEmitter) {
    this.#o = o;
    this.#events = events;
    this.#life = linkSignals(o.signal);
    this.cache = new EntryCache(o.maxEntries, (e) =>
      events.emit('evict', { name: e.name, version: e.version }),
    );
  }

  /** Aborts when the client is closed or its `signal` fires. */
  get signal(): AbortSignal {
    return this.#life.signal;
  }

  target(name: string, version?: SecretVersion): Target {
    if (typeof name !== 'string' || name === '') {
      throw new SecretsError(
        SecretsErrorCode.InvalidOption,
        'A secret name must be a non-empty string.',
      );
    }
    const p = this.#o.prefix;
    const full = p === '' || name.startsWith(p) ? name : p + name;
    const vkey = versionKey(version);
    return {
      name: full,
      bareName: full.slice(p.length),
      version,
      vkey,
      key: vkey === '' ? full : `${full}\0${vkey}`,
    };
  }

  /**
   * The value of `t`: from the cache when fresh (synchronously: the hot path allocates no
   * promise), else from the provider (see the class). Throws synchronously when aborted.
   */
  read(t: Target, signal: AbortSignal | undefined): SecretValue | Promise<SecretValue> {
    this.#live(signal);
    const entry = this.cache.ensure(t.key, t.name, t.bareName, t.vkey);
    const value = entry.value;
    if (value !== undefined) {
      const now = this.#o.clock.now();
      if (now < entry.expiresAt) {
        if (now >= entry.expiresAt - this.#o.refreshAheadMs) this.#background(entry, now);
        return value;
      }
      if (entry.failures > 0 && this.#servable(entry, now)) {
        this.#background(entry, now);
        return this.#stale(entry, now);
      }
      return this.#refreshOrStale(entry, signal);
    }
    return abortable(entry.inflight ?? this.#fetch(entry, false), signal);
  }

  async #refreshOrStale(entry: Entry, signal: AbortSignal | undefined): Promise<SecretValue> {
    try {
      return await abortable(entry.inflight ?? this.#fetch(entry, false), signal);
    } catch (err) {
      const later = this.#o.clock.now();
      if (entry.value !== undefined && this.#servable(entry, later) && canServeStale(err)) {
        return this.#stale(entry, later);
      }
      throw err;
    }
  }

  /** A provider call for `t` now, whatever the cache holds (joins one in flight). */
  async reload(t: Target, signal: AbortSignal | undefined): Promise<SecretValue> {
    this.#live(signal);
    const entry = this.cache.ensure(t.key, t.name, t.bareName, t.vkey);
    return abortable(entry.inflight ?? this.#fetch(entry, false), signal);
  }

  /** Stores a value read by other means (a batch read). */
  store(t: Target, value: SecretValue): void {
    const entry = this.cache.ensure(t.key, t.name, t.bareName, t.vkey);
    this.#succeed(entry, value, this.#o.clock.now());
  }

  close(reason: SecretsError): void {
    this.#life.controller.abort(reason);
    this.#life.dispose();
    this.cache.clear();
  }

  /** Runs `fn` bounded by `timeout`, the caller's signal and the client's life. */
  bounded<T>(what: string, signal: AbortSignal | undefined, fn: (s: AbortSignal) => Promise<T>) {
    const linked = linkSignals(this.#life.signal, signal);
    return withTimeout(fn, { timeoutMs: this.#o.timeoutMs, signal: linked.signal, what }).finally(
      linked.dispose,
    );
  }

  /**
   * Like `bounded`, for a refresh no caller awaits: its timer is `unref()`ed, so a background
   * refresh never keeps the process alive on its own.
   */
  #boundedInBackground<T>(what: string, fn: (s: AbortSignal) => Promise<T>): Promise<T> {
    const linked = linkSignals(this.#life.signal);
    const ms = this.#o.timeoutMs;
    const timer = setTimeout(() => linked.controller.abort(new TimeoutError(ms, what)), ms);
    timer.unref();
    const run = Promise.resolve().then(() => fn(linked.signal));
    return abortable(run, linked.signal, what).finally(() => {
      clearTimeout(timer);
      linked.dispose();
    });
  }

  #live(signal: AbortSignal | undefined): void {
    throwIfAborted(this.#life.signal);
    throwIfAborted(signal);
  }

  #servable(entry: Entry, now: number): boolean {
    return now <= entry.expiresAt + this.#o.maxStaleMs;
  }

  #stale(entry: Entry, now: number): SecretValue {
    recordStaleServe(this.#o.provider.kind);
    // Once per failed attempt, not once per read: an outage at 10,000 reads a second must not
    // become 10,000 events a second.
    if (entry.staleReported !== entry.failures && this.#events.has('stale')) {
      entry.staleReported = entry.failures;
      this.#events.emit('stale', {
        name: entry.name,
        version: entry.version,
        overdueMs: Math.max(0, now - entry.expiresAt),
      });
    }
    return entry.value!;
  }

  #background(entry: Entry, now: number): void {
    if (entry.inflight !== undefined || now < entry.nextAttemptAt) return;
    if (this.#life.signal.aborted) return;
    // The failure is an `error` event; the caller was served from the cache.
    this.#fetch(entry, true).catch(() => {});
  }

  #fetch(entry: Entry, background: boolean): Promise<SecretValue> {
    const started = performance.now();
    const provider = this.#o.provider;
    const request = {
      name: entry.name,
      bareName: entry.bareName,
      version: entry.version === '' ? undefined : parseVersion(entry.version),
    };
    const what = `Reading secret "${entry.name}"`;
    const read = (signal: AbortSignal) => provider.get({ ...request, signal });
    const p = observeFetch(provider.kind, 'single', background, () =>
      (background
        ? this.#boundedInBackground(what, read)
        : this.bounded(what, undefined, read)
      ).then(
        (got) => {
          entry.inflight = undefined;
          const now = this.#o.clock.now();
          if (got === undefined || got.value === '' || got.value.length === 0) {
            this.cache.delete(entry);
            throw notFound(
              entry.name,
              provider.describe?.(request) ?? provider.kind,
              got !== undefined,
            );
          }
          const prev = entry.value?.versionId;
          const value = new SecretValue(got.value, got.versionId);
          this.#succeed(entry, value, now);
          if (this.#events.has('fetch')) {
            this.#events.emit('fetch', {
              name: entry.name,
              version: entry.version,
              durationMs: performance.now() - started,
              background,
              changed: prev !== undefined && prev !== got.versionId,
            });
          }
          return value;
        },
        (err: unknown) => {
          entry.inflight = undefined;
          throw this.#fail(entry, err);
        },
      ),
    );
    entry.inflight = p;
    return p;
  }

  #succeed(entry: Entry, value: SecretValue, now: number): void {
    if (entry.failures > 0) {
      this.#events.emit('recovered', {
        name: entry.name,
        version: entry.version,
        downMs: Math.max(0, now - entry.failingSince),
      });
    }
    entry.value = value;
    entry.fields = undefined;
    entry.expiresAt = now + this.#o.ttlMs;
    entry.failures = 0;
    entry.nextAttemptAt = 0;
    entry.lastCode = undefined;
  }

  #fail(entry: Entry, err: unknown): Error {
    const error = isOrgError(err)
      ? err
      : new SecretsError(
          SecretsErrorCode.Unavailable,
          `Could not read secret "${entry.name}" from the ${this.#o.provider.kind} provider; check the network and the provider's status (the cause says what failed).`,
          { secretName: entry.name, cause: err },
        );
    if (isOrgError(error, SecretsErrorCode.Closed)) return error;
    const now = this.#o.clock.now();
    if (entry.failures === 0) entry.failingSince = now;
    entry.failures += 1;
    const wait = backoffMs(entry.failures, this.#o.backoffMs, this.#o.maxBackoffMs);
    entry.nextAttemptAt = now + wait;
    entry.lastCode = error.code;
    this.#events.emit('error', {
      name: entry.name,
      version: entry.version,
      code: error.code,
      failures: entry.failures,
      stale: entry.value !== undefined && this.#servable(entry, now),
      retryAfterMs: wait,
    });
    return error;
  }
}

function parseVersion(vkey: string): SecretVersion {
  return vkey.startsWith('id:') ? { versionId: vkey.slice(3) } : vkey.slice(6);
}

/** Whether a failed refresh may fall back to the last good value: not for a deleted secret. */
function canServeStale(err: unknown): boolean {
  return !isOrgError(err, SecretsErrorCode.NotFound, 'ERR_ABORTED', SecretsErrorCode.Closed);
}
