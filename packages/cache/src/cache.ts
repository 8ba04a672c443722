import { randomUUID } from 'node:crypto';
import type { CacheDriver } from './driver.js';
import { createRedisDriver } from './drivers/redis.js';
import { decodeEntry, type Entry, encodeEntry } from './envelope.js';
import { backendError, CacheError, corruptValueError, invalidOption } from './errors.js';
import { CacheEmitter, type CacheEventName, type CacheEvents, type Unsubscribe } from './events.js';
import { encodeBusMessage, Invalidations, parseBusMessage } from './invalidations.js';
import { FAILED, L2Guard } from './l2-guard.js';
import { loadShared } from './load.js';
import { type Clock, MemoryStore } from './memory-store.js';
import type { Serializer } from './serializer.js';
import { nonNegative, resolveSettings, type Settings } from './settings.js';
import { type Loaded, untilAborted } from './single-flight.js';
import { ttlToMs, withJitter } from './ttl.js';
import type {
  Cache,
  CacheHealth,
  CacheOptions,
  GetOrSetOptions,
  LoaderContext,
  SetOptions,
} from './types.js';

/**
 * Creates a cache: an in-process L1 in front of an optional Redis (or other) L2. With `redis`
 * given as a URL, ioredis is imported on first use, so the root entry loads no Redis code an app
 * does not ask for; `import { createRedisDriver } from '@org/cache/redis'` gives the driver on
 * its own. See the README for the failure model.
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
  readonly emitter = new CacheEmitter();
  readonly l1: MemoryStore<Entry> | undefined;
  readonly guard: L2Guard | undefined;
  readonly id = randomUUID();
  readonly presets: Map<string, number>;
  readonly graceMs: number;
  readonly jitter: number;
  readonly earlyRefresh: number | undefined;
  readonly timeouts: Settings['timeouts'];
  readonly random: () => number;
  readonly inflight = new Map<string, Promise<Loaded>>();
  readonly invalidations = new Invalidations();
  private readonly l1TtlMs: number | undefined;
  private readonly channel: string;
  private readonly busReady: Promise<boolean>;
  private unsubscribeBus: (() => Promise<void>) | undefined;
  private readonly publishing: boolean;
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
    this.graceMs = s.graceMs;
    this.jitter = s.jitter;
    this.earlyRefresh = s.earlyRefresh;
    this.timeouts = s.timeouts;
    if (s.memory) {
      this.l1 = new MemoryStore<Entry>(s.memory, (e) => e.payload.length * 2 + 32, this.clock);
      this.l1TtlMs = s.memory.ttlMs;
    }
    const driver: CacheDriver | undefined =
      // `redis: process.env.REDIS_URL` with the variable set but empty means no Redis.
      options.redis !== undefined && options.redis !== ''
        ? createRedisDriver(options.redis, {
            commandTimeout: s.timeouts.command,
            connectTimeout: s.timeouts.connect,
          })
        : options.driver;
    if (driver) {
      this.guard = new L2Guard(driver, {
        timeoutMs: s.timeouts.command,
        failureThreshold: s.failureThreshold,
        probeIntervalMs: s.probeIntervalMs,
        onError: (operation, key, error) => this.emitter.emit('error', { operation, key, error }),
        onDegraded: (error) => {
          // Invalidations may be lost while L2 is unreachable: a stale L1 is worse than a miss.
          this.flushL1();
          this.emitter.emit('degraded', { error });
        },
        onRecovered: (downtimeMs) => {
          this.flushL1();
          this.emitter.emit('recovered', { downtimeMs });
        },
      });
    }
    this.publishing = driver?.publish !== undefined && s.invalidation;
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
    return `${this.prefix}v:${key}`;
  }

  lockKey(fullKey: string): string {
    return `${this.prefix}l:${fullKey.slice(this.prefix.length + 2)}`;
  }

  private tagKey(tag: string): string {
    return `${this.prefix}t:${tag}`;
  }

  private flushL1(): void {
    this.l1?.clear();
    this.invalidations.markAll();
  }

  /** Puts an entry read from L2 into L1, unless the key was invalidated since `epoch`. */
  fillL1(fullKey: string, e: Entry, epoch: number): void {
    if (this.l1 && this.invalidations.allows(fullKey, epoch)) {
      this.storeL1(fullKey, e, this.graceMs, undefined);
    }
  }

  private storeL1(fullKey: string, e: Entry, graceMs: number, tags: readonly string[] | undefined) {
    if (!this.l1) return;
    let until = e.expiresAt + graceMs;
    if (this.l1TtlMs !== undefined) until = Math.min(until, this.clock.now() + this.l1TtlMs);
    this.l1.set(fullKey, e, until, tags);
  }

  decode<T>(payload: string): T {
    return this.serializer.deserialize(payload) as T;
  }

  /** Builds the entry `set` and loaders store: serialized, with a jittered TTL. */
  entryFor(value: unknown, options: SetOptions<P> | undefined): Entry {
    const ttlMs = withJitter(
      ttlToMs(options?.ttl ?? 'default', this.presets),
      this.jitter,
      this.random,
    );
    return {
      payload: this.serializer.serialize(value),
      expiresAt: this.clock.now() + ttlMs,
      ttlMs,
    };
  }

  graceOf(options: { grace?: number } | undefined): number {
    return options?.grace === undefined
      ? this.graceMs
      : nonNegative('grace', options.grace, 0) * 1000;
  }

  /** Writes an entry to both tiers and announces it; L2 failures are absorbed. */
  async write(fullKey: string, e: Entry, graceMs: number, tags: readonly string[] | undefined) {
    this.invalidations.mark(fullKey);
    const tagKeys = tags && tags.length > 0 ? tags.map((t) => this.tagKey(t)) : undefined;
    this.storeL1(fullKey, e, graceMs, tagKeys);
    const guard = this.guard;
    if (!guard?.up) return;
    const raw = encodeEntry(e);
    const ttlMs = e.ttlMs + graceMs;
    const opts = tagKeys ? { ttlMs, tags: tagKeys } : { ttlMs };
    const key = fullKey.slice(this.prefix.length + 2);
    const epoch = this.invalidations.epoch;
    await Promise.all([
      guard.run('set', key, (d) => d.set(fullKey, raw, opts)),
      this.publish(guard, { k: [fullKey] }),
    ]);
    // When this very write found Redis gone, the degrade flushed L1; the value just written is
    // still the newest this instance knows, so `set` keeps it in L1 as promised.
    if (!guard.up && !this.invalidations.keyChangedSince(fullKey, epoch)) {
      this.storeL1(fullKey, e, graceMs, tagKeys);
    }
  }

  private publish(guard: L2Guard, msg: { k?: string[]; c?: string }): Promise<unknown> {
    if (!this.publishing) return Promise.resolve();
    const text = encodeBusMessage(this.id, msg);
    return guard.run(
      'publish',
      undefined,
      (d) => d.publish?.(this.channel, text) ?? Promise.resolve(),
    );
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

  async get<T = unknown>(key: string, options?: { signal?: AbortSignal }): Promise<T | undefined> {
    const fullKey = this.key(key);
    const hit = this.l1?.get(fullKey);
    if (hit !== undefined && hit.expiresAt > this.clock.now()) {
      this.emitHit(key, 'l1', false);
      return this.decode<T>(hit.payload);
    }
    const guard = this.guard;
    if (guard?.up) {
      const epoch = this.invalidations.epoch;
      const read = guard.run('get', key, (d) => d.get(fullKey));
      const raw = await untilAborted(read, options?.signal);
      if (raw !== FAILED && raw !== undefined) {
        const e = decodeEntry(raw);
        if (e !== undefined && e.expiresAt > this.clock.now()) {
          try {
            const value = this.decode<T>(e.payload);
            this.fillL1(fullKey, e, epoch);
            this.emitHit(key, 'l2', false);
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

  async set(key: string, value: unknown, options?: SetOptions<P>): Promise<void> {
    const e = this.entryFor(value, options);
    await this.write(this.key(key), e, this.graceOf(options), options?.tags);
  }

  getOrSet<T>(
    key: string,
    loader: (ctx: LoaderContext) => T | Promise<T>,
    options?: GetOrSetOptions<P>,
  ): Promise<T> {
    if (typeof loader !== 'function') {
      return Promise.reject(invalidOption('getOrSet(key, loader): `loader` must be a function.'));
    }
    return loadShared<T, P>(this, key, loader, options);
  }

  async delete(key: string): Promise<boolean> {
    const fullKey = this.key(key);
    this.invalidations.mark(fullKey);
    const inL1 = this.l1?.delete(fullKey) ?? false;
    const guard = this.guard;
    if (!guard?.up) return inL1;
    const [inL2] = await Promise.all([
      guard.run('delete', key, (d) => d.delete(fullKey)),
      this.publish(guard, { k: [fullKey] }),
    ]);
    return inL1 || inL2 === true;
  }

  async deleteByTag(tag: string): Promise<void> {
    const tagKey = this.tagKey(tag);
    const local = this.l1?.deleteByTag(tagKey) ?? [];
    for (const k of local) this.invalidations.mark(k);
    const guard = this.guard;
    if (!guard?.up) return;
    if (!guard.driver.deleteByTag) {
      this.emitter.emit('error', {
        operation: 'deleteByTag',
        error: new CacheError(
          'ERR_CACHE_UNSUPPORTED',
          `The "${guard.driver.name}" driver has no deleteByTag; only this instance's L1 was cleared.`,
        ),
      });
      return;
    }
    const keys = await guard.run('deleteByTag', undefined, (d) =>
      d.deleteByTag ? d.deleteByTag(tagKey) : Promise.resolve([]),
    );
    const all = new Set([...local, ...(keys === FAILED ? [] : keys)]);
    if (all.size > 0) await this.publish(guard, { k: [...all] });
  }

  async clear(): Promise<void> {
    this.l1?.clear(this.prefix);
    this.invalidations.markAll();
    const guard = this.guard;
    if (!guard?.up) return;
    await Promise.all([
      guard.run('clear', undefined, (d) => d.clear(this.prefix)),
      this.publish(guard, { c: this.prefix }),
    ]);
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

  async health(): Promise<CacheHealth> {
    const guard = this.guard;
    if (!guard) return { available: true, latencyMs: 0, backend: 'memory' };
    const start = performance.now();
    const available = !this.closed && (await guard.ping());
    const latencyMs = Math.round((performance.now() - start) * 100) / 100;
    return { available, latencyMs, backend: guard.driver.name };
  }

  async ready(): Promise<boolean> {
    if (!this.guard) return true;
    const deadline = Date.now() + this.timeouts.connect;
    for (;;) {
      if ((await this.health()).available) return await this.busReady;
      if (Date.now() >= deadline || this.closed) return false;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  on<K extends CacheEventName>(event: K, listener: (payload: CacheEvents[K]) => void): Unsubscribe {
    return this.emitter.on(event, listener);
  }

  async close(): Promise<void> {
    if (this.closed || this.isView) return;
    this.closed = true;
    const guard = this.guard;
    guard?.stop();
    await this.unsubscribeBus?.().catch(() => {});
    await guard?.driver.close?.().catch(() => {});
    this.l1?.clear();
    this.invalidations.wake();
    this.emitter.clear();
  }
}
