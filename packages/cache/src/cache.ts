import { randomUUID } from 'node:crypto';
import {
  abortable,
  type Clock,
  type Emitter,
  sleep,
  throwIfAborted,
  type Unsubscribe,
} from '@org/core';
import { Announcer } from './announcer.js';
import type { CacheDriver } from './driver.js';
import { decodeEntry, type Entry } from './envelope.js';
import { backendError, check, corruptValueError, invalidOption } from './errors.js';
import { type CacheEventName, type CacheEvents, createCacheEmitter } from './events.js';
import { Invalidations, parseBusMessage } from './invalidations.js';
import { FAILED, type L2Guard } from './l2-guard.js';
import { guardL2 } from './l2-setup.js';
import { loadShared } from './load.js';
import { MemoryStore } from './memory-store.js';
import { OutageJournal } from './outage-journal.js';
import type { Serializer } from './serializer.js';
import { resolveSettings, type Settings } from './settings.js';
import type { Loaded } from './single-flight.js';
import {
  type CacheMeter,
  cacheMeter,
  type Outcome,
  observeL1,
  observeLookup,
  observePing,
  observeWrite,
  telemetry,
} from './telemetry.js';
import { ttlToMs, withJitter } from './ttl.js';
import type {
  Cache,
  CacheHealth,
  CacheOptions,
  GetOrSetOptions,
  LoaderContext,
  SetOptions,
  WaitOptions,
} from './types.js';
import { clearPrefix, deleteKey, deleteTag, writeEntry } from './writes.js';

/** How `write` stores an entry. */
export interface WriteOptions {
  graceMs: number;
  tags: readonly string[] | undefined;
  /** L1 lifetime cap, in ms. */
  l1TtlMs: number | undefined;
  /** The loader lock to release with the write. */
  unlock?: { key: string; token: string } | undefined;
}

/**
 * Creates a cache: an in-process L1 in front of an optional Redis (or other) L2. With `redis`
 * given as a URL, ioredis is imported on first use, so the root entry loads no Redis code an app
 * does not ask for; `import { createRedisDriver } from '@org/cache/redis'` gives the driver on
 * its own. Every duration option is a core `Duration` (a number is milliseconds); TTL presets are
 * the app's (`presets`). It reads no environment variable: `createCacheFromEnv` does. Throws
 * `ERR_CACHE_INVALID_OPTION` naming a bad option. See the README for the failure model.
 *
 * @example
 * const cache = createCache({ redis: process.env.REDIS_URL, presets: { pricing: '30m' } });
 * await cache.getOrSet('prices', loadPrices, { ttl: 'pricing' });
 */
export function createCache<const P extends string = never>(
  options: CacheOptions<P> = {},
): Cache<P> {
  return new TwoTierCache<P>(options);
}

/** @internal The implementation behind `createCache`. */
export class TwoTierCache<P extends string> implements Cache<P> {
  readonly namespace: string;
  readonly prefix: string;
  readonly clock: Clock;
  readonly serializer: Serializer;
  readonly emitter: Emitter<CacheEvents> = createCacheEmitter();
  readonly l1: MemoryStore<Entry> | undefined;
  readonly guard: L2Guard | undefined;
  readonly id = randomUUID();
  readonly presets: Map<string, number>;
  /** TTL of a call that names none, in ms. */
  readonly ttlMs: number;
  readonly graceMs: number;
  readonly jitter: number;
  readonly earlyRefresh: number | undefined;
  readonly timeouts: Settings['timeouts'];
  readonly random: () => number;
  readonly inflight = new Map<string, Promise<Loaded>>();
  readonly invalidations = new Invalidations();
  /** Writes made while L2 was degraded, replayed to it before it is used again. */
  readonly journal: OutageJournal;
  private readonly l1TtlMs: number | undefined;
  readonly channel: string;
  private readonly busReady: Promise<boolean>;
  private unsubscribeBus: (() => Promise<void>) | undefined;
  readonly publishing: boolean;
  /** Whether the callers of one shared load get one deep-frozen value instead of a copy each. */
  readonly sharedResults: boolean;
  /** Whether loads take the Redis lock, so that one instance loads a key at a time. */
  readonly crossInstanceLock: boolean;
  /** Coalesces the invalidations of writes; undefined when each write publishes its own. */
  readonly announcer: Announcer | undefined;
  /** Telemetry attributes of this cache (and its views): its root namespace. */
  readonly meter: CacheMeter;
  /** Stops the L1 entry gauge reading this cache (a no-op without an L1). */
  private readonly stopObservingL1: () => void = () => {};
  private closed = false;
  /** True on the views `withNamespace` returns: they share everything with their root. */
  private readonly isView: boolean = false;

  constructor(options: CacheOptions<P>) {
    const s = resolveSettings(options);
    this.namespace = s.namespace;
    this.prefix = s.prefix;
    this.channel = s.channel;
    this.clock = s.clock;
    this.random = s.random;
    this.serializer = s.serializer;
    this.presets = s.presets;
    this.ttlMs = s.ttlMs;
    this.graceMs = s.graceMs;
    this.jitter = s.jitter;
    this.earlyRefresh = s.earlyRefresh;
    this.timeouts = s.timeouts;
    this.journal = new OutageJournal(s.outageJournal, s.prefix);
    this.meter = cacheMeter(s.namespace);
    if (s.memory) {
      this.l1 = new MemoryStore<Entry>(s.memory, (e) => e.payload.length * 2 + 32, this.clock);
      this.l1TtlMs = s.memory.ttlMs;
      this.stopObservingL1 = observeL1(this.l1, this.meter);
    }
    this.guard = guardL2(this, options, s);
    const driver = this.guard?.driver;
    this.publishing = driver?.publish !== undefined && s.invalidation;
    this.crossInstanceLock = s.crossInstanceLock;
    this.sharedResults = s.sharedResults;
    this.announcer =
      this.publishing && s.invalidationWindowMs > 0
        ? new Announcer(this, s.invalidationWindowMs)
        : undefined;
    // Without an L1 there is nothing to invalidate here; waiters for another instance's load
    // then poll only.
    this.busReady =
      driver?.subscribe && s.invalidation && this.l1
        ? this.subscribe(driver)
        : Promise.resolve(true);
  }

  private async subscribe(driver: CacheDriver): Promise<boolean> {
    let up = false;
    try {
      const stop = await driver.subscribe?.(this.channel, {
        onMessage: (m) => this.onBusMessage(m),
        onUp: () => {
          up = true;
          this.flushL1();
        },
        onDown: () => {
          up = false;
          this.flushL1();
        },
      });
      if (this.closed) await stop?.();
      else this.unsubscribeBus = stop;
    } catch (err) {
      this.emitter.emit('error', { operation: 'subscribe', error: backendError('subscribe', err) });
    }
    return up;
  }

  key(key: string): string {
    // A stampede calls with one key many times in a row: the same string then, already hashed.
    if (key === this.lastKey && this.prefix === this.lastPrefix) return this.lastFullKey;
    const full = `${this.prefix}v:${key}`;
    this.lastKey = key;
    this.lastPrefix = this.prefix;
    this.lastFullKey = full;
    return full;
  }

  private lastKey: string | undefined;
  private lastPrefix = '';
  private lastFullKey = '';

  lockKey(fullKey: string): string {
    return `${this.prefix}l:${fullKey.slice(this.prefix.length + 2)}`;
  }

  tagKey(tag: string): string {
    return `${this.prefix}t:${tag}`;
  }

  /** Drops every L1 entry: after anything that may have cost this instance an invalidation. */
  flushL1(): void {
    this.l1?.clear();
    this.invalidations.markAll();
  }

  /** Puts an entry read from L2 into L1, unless the key was invalidated since `epoch`. */
  fillL1(fullKey: string, e: Entry, epoch: number, l1TtlMs = this.l1TtlMs): void {
    if (this.l1 && this.invalidations.allows(fullKey, epoch)) {
      this.storeL1(fullKey, e, this.graceMs, undefined, l1TtlMs);
    }
  }

  storeL1(
    fullKey: string,
    e: Entry,
    graceMs: number,
    tags: readonly string[] | undefined,
    l1TtlMs: number | undefined,
  ) {
    if (!this.l1) return;
    let until = e.expiresAt + graceMs;
    if (l1TtlMs !== undefined) until = Math.min(until, this.clock.now() + l1TtlMs);
    this.l1.set(fullKey, e, until, tags);
  }

  /** The L1 lifetime cap of a call (ms): its `memory.ttl`, else the cache's. */
  l1TtlOf(options: SetOptions<P> | undefined): number | undefined {
    const m = options?.memory;
    if (m === undefined) return this.l1TtlMs;
    if (typeof m !== 'object' || m === null) {
      throw invalidOption("`memory` of a call must be an object such as { ttl: '30s' }.");
    }
    return m.ttl === undefined ? this.l1TtlMs : check.duration(m.ttl, 'memory.ttl', 0);
  }

  decode<T>(payload: string): T {
    return this.serializer.deserialize(payload) as T;
  }

  /** Builds the entry `set` and loaders store: serialized, with a jittered TTL. */
  entryFor(value: unknown, options: SetOptions<P> | undefined): Entry {
    const ttl = options?.ttl;
    const ttlMs = withJitter(
      ttl === undefined ? this.ttlMs : ttlToMs(ttl, this.presets),
      this.jitter,
      this.random,
    );
    return {
      payload: this.serializer.serialize(value),
      expiresAt: this.clock.now() + ttlMs,
      ttlMs,
    };
  }

  graceOf(options: SetOptions<P> | undefined): number {
    return options?.grace === undefined ? this.graceMs : check.duration(options.grace, 'grace', 0);
  }

  /** The soft timeout of a call (ms): its own, else the cache's. */
  softOf(options: GetOrSetOptions<P> | undefined): number | undefined {
    const soft = options?.timeouts?.soft;
    return soft === undefined ? this.timeouts.soft : check.duration(soft, 'timeouts.soft');
  }

  /** The hard timeout of a call (ms): its own, else the cache's. */
  hardOf(options: GetOrSetOptions<P> | undefined): number | undefined {
    const hard = options?.timeouts?.hard;
    return hard === undefined ? this.timeouts.hard : check.duration(hard, 'timeouts.hard');
  }

  /** See `writeEntry`. */
  write(fullKey: string, e: Entry, w: WriteOptions): Promise<boolean> {
    return writeEntry(this, fullKey, e, w);
  }

  private onBusMessage(text: string): void {
    // Every instance hears its own messages too: drop those before parsing anything.
    if (text.startsWith(this.id)) return;
    const msg = parseBusMessage(text);
    if (msg === undefined) return;
    if (typeof msg.c === 'string') {
      this.l1?.clear(msg.c);
      this.invalidations.markAll();
      this.invalidations.wake();
      return;
    }
    for (const k of msg.k ?? []) {
      this.l1?.delete(k);
      this.invalidations.mark(k);
      this.invalidations.wake(k);
    }
  }

  emitHit(key: string, tier: 'l1' | 'l2', stale: boolean): void {
    if (this.emitter.has('hit')) this.emitter.emit('hit', { key, tier, stale });
  }

  emitMiss(key: string): void {
    if (this.emitter.has('miss')) this.emitter.emit('miss', { key });
  }

  get<T = unknown>(key: string, options?: WaitOptions): Promise<T | undefined> {
    // The one telemetry check of a call: with no SDK, the plain path.
    if (telemetry.enabled())
      return observeLookup(this, 'get', (out) => this.read<T>(key, options, out));
    return this.read<T>(key, options, undefined);
  }

  /** `get`; `out` (instrumented calls only) learns how it was answered. */
  private async read<T>(
    key: string,
    options: WaitOptions | undefined,
    out: Outcome | undefined,
  ): Promise<T | undefined> {
    const fullKey = this.key(key);
    const hit = this.l1?.get(fullKey);
    if (hit !== undefined && hit.expiresAt > this.clock.now()) {
      this.emitHit(key, 'l1', false);
      if (out !== undefined) out.tier = 'l1';
      return this.decode<T>(hit.payload);
    }
    const guard = this.guard;
    if (guard?.up) {
      const epoch = this.invalidations.epoch;
      const read = guard.run('get', key, (d) => d.get(fullKey), out !== undefined);
      const raw = await abortable(read, options?.signal);
      if (raw !== FAILED && raw !== undefined) {
        const e = decodeEntry(raw);
        if (e !== undefined && e.expiresAt > this.clock.now()) {
          try {
            const value = this.decode<T>(e.payload);
            this.fillL1(fullKey, e, epoch);
            this.emitHit(key, 'l2', false);
            if (out !== undefined) out.tier = 'l2';
            return value;
          } catch (err) {
            this.reportCorrupt(key, err);
          }
        }
      }
    }
    this.emitMiss(key);
    return undefined;
  }

  reportCorrupt(key: string, cause: unknown): void {
    this.emitter.emit('error', { operation: 'deserialize', key, error: corruptValueError(cause) });
  }

  set(key: string, value: unknown, options?: SetOptions<P>): Promise<void> {
    return observeWrite(this, 'set', async () => {
      const l1TtlMs = this.l1TtlOf(options);
      const e = this.entryFor(value, options);
      await this.write(this.key(key), e, {
        graceMs: this.graceOf(options),
        tags: options?.tags,
        l1TtlMs,
      });
    });
  }

  getOrSet<T>(
    key: string,
    loader: (ctx: LoaderContext) => T | Promise<T>,
    options?: GetOrSetOptions<P>,
  ): Promise<T> {
    if (typeof loader !== 'function') {
      return Promise.reject(invalidOption('getOrSet(key, loader): `loader` must be a function.'));
    }
    if (telemetry.enabled()) {
      return observeLookup(this, 'getOrSet', (out) =>
        loadShared<T, P>(this, key, loader, options, out),
      );
    }
    return loadShared<T, P>(this, key, loader, options, undefined);
  }

  delete(key: string): Promise<boolean> {
    return observeWrite(this, 'delete', () => deleteKey(this, key));
  }

  deleteByTag(tag: string): Promise<void> {
    return observeWrite(this, 'deleteByTag', () => deleteTag(this, tag));
  }

  clear(): Promise<void> {
    return observeWrite(this, 'clear', () => clearPrefix(this));
  }

  withNamespace(name: string): Cache<P> {
    if (typeof name !== 'string' || name === '') {
      throw invalidOption('withNamespace(name): `name` must be a non-empty string.');
    }
    // A view: own namespace and prefix, everything else (L1, Redis, subscription, events,
    // single flights) read through the prototype from the root cache.
    const view = Object.create(this) as TwoTierCache<P>;
    Object.defineProperties(view, {
      namespace: { value: `${this.namespace}:${name}`, enumerable: true },
      prefix: { value: `${this.prefix}n:${encodeURIComponent(name)}:` },
      isView: { value: true },
    });
    return view;
  }

  async health(options?: WaitOptions): Promise<CacheHealth> {
    const signal = options?.signal;
    throwIfAborted(signal);
    const guard = this.guard;
    if (!guard) return { available: true, latencyMs: 0, backend: 'memory' };
    const start = performance.now();
    const available =
      !this.closed && (await observePing(guard.driver.name, () => guard.ping(signal)));
    const latencyMs = Math.round((performance.now() - start) * 100) / 100;
    return { available, latencyMs, backend: guard.driver.name };
  }

  async ready(options?: WaitOptions): Promise<boolean> {
    const signal = options?.signal;
    throwIfAborted(signal);
    if (!this.guard) return true;
    const deadline = Date.now() + this.timeouts.connect;
    for (;;) {
      if ((await this.health(options)).available) return await abortable(this.busReady, signal);
      if (Date.now() >= deadline || this.closed) return false;
      await sleep(50, signal);
    }
  }

  on<K extends CacheEventName>(
    event: K,
    listener: (payload: CacheEvents[K]) => unknown,
  ): Unsubscribe {
    return this.emitter.on(event, listener);
  }

  once<K extends CacheEventName>(
    event: K,
    listener: (payload: CacheEvents[K]) => unknown,
  ): Unsubscribe {
    return this.emitter.once(event, listener);
  }

  async close(): Promise<void> {
    if (this.closed || this.isView) return;
    this.closed = true;
    this.stopObservingL1();
    const guard = this.guard;
    // Writes made just before close() are still announced (bounded by `timeouts.command`).
    await this.announcer?.flush();
    guard?.stop();
    await this.unsubscribeBus?.().catch(() => {});
    await guard?.driver.close?.().catch(() => {});
    this.l1?.clear();
    this.invalidations.wake();
    this.emitter.clear();
  }
}
