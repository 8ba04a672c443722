import { randomUUID } from 'node:crypto';
import type { CacheDriver } from './driver.js';
import { createRedisDriver } from './drivers/redis.js';
import { decodeEntry, type Entry, encodeEntry } from './envelope.js';
import { CacheError, invalidOption } from './errors.js';
import { CacheEmitter, type CacheEventName, type CacheEvents, type Unsubscribe } from './events.js';
import { FAILED, L2Guard } from './l2-guard.js';
import { loadShared } from './load.js';
import { type Clock, MemoryStore, systemClock } from './memory-store.js';
import { jsonSerializer, type Serializer } from './serializer.js';
import { type Loaded, untilAborted } from './single-flight.js';
import { resolvePresets, ttlToMs, withJitter } from './ttl.js';
import type {
  Cache,
  CacheHealth,
  CacheOptions,
  GetOrSetOptions,
  LoaderContext,
  SetOptions,
} from './types.js';

function fraction(name: string, v: number | undefined, fallback: number | undefined) {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
    throw invalidOption(`\`${name}\` must be a fraction between 0 and 1; got ${String(v)}.`);
  }
  return v;
}

function nonNegative(name: string, v: number | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v)) {
    throw invalidOption(`\`${name}\` must be a number >= 0; got ${String(v)}.`);
  }
  return v;
}

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
  readonly timeouts: {
    command: number;
    connect: number;
    soft: number | undefined;
    hard: number | undefined;
    lock: number;
    lockWait: number;
  };
  readonly random: () => number;
  readonly inflight = new Map<string, Promise<Loaded>>();
  readonly waiters = new Map<string, Set<() => void>>();
  private readonly l1TtlMs: number | undefined;
  private readonly channel: string;
  private readonly busReady: Promise<boolean>;
  private unsubscribeBus: (() => Promise<void>) | undefined;
  private readonly publishing: boolean;
  /** Invalidation counter: an L2 read started before an invalidation of its key must not fill L1. */
  private seq = 0;
  private clearedAt = 0;
  private readonly invalidated = new Map<string, number>();
  private closed = false;

  constructor(options: CacheOptions<P>) {
    const t = options.timeouts ?? {};
    const lock = nonNegative('timeouts.lock', t.lock, 5000);
    this.timeouts = {
      command: nonNegative('timeouts.command', t.command, 250),
      connect: nonNegative('timeouts.connect', t.connect, 1000),
      soft: t.soft === undefined ? undefined : nonNegative('timeouts.soft', t.soft, 0),
      hard: t.hard === undefined ? undefined : nonNegative('timeouts.hard', t.hard, 0),
      lock,
      lockWait: nonNegative('timeouts.lockWait', t.lockWait, lock),
    };
    this.namespace = options.namespace ?? 'cache';
    if (typeof this.namespace !== 'string' || this.namespace === '') {
      throw invalidOption('`namespace` must be a non-empty string.');
    }
    this.prefix = `${encodeURIComponent(this.namespace)}:`;
    this.channel = `org-cache:${this.prefix}`;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.serializer = options.serializer ?? jsonSerializer;
    this.presets = resolvePresets(
      options.ttl as Record<string, number>,
      options.env ?? process.env,
    );
    this.graceMs = nonNegative('grace', options.grace, 0) * 1000;
    this.jitter = fraction('jitter', options.jitter, 0.1) ?? 0.1;
    this.earlyRefresh = fraction('earlyRefresh', options.earlyRefresh, undefined);
    if (options.memory !== false) {
      const m = options.memory ?? {};
      this.l1 = new MemoryStore<Entry>(m, (e) => e.payload.length * 2 + 32, this.clock);
      this.l1TtlMs = m.ttl === undefined ? undefined : nonNegative('memory.ttl', m.ttl, 0) * 1000;
    }
    const driver: CacheDriver | undefined =
      options.redis !== undefined
        ? createRedisDriver(options.redis, {
            commandTimeout: this.timeouts.command,
            connectTimeout: this.timeouts.connect,
          })
        : options.driver;
    if (driver) {
      this.guard = new L2Guard(driver, {
        timeoutMs: this.timeouts.command,
        failureThreshold: options.failureThreshold ?? 3,
        probeIntervalMs: options.probeInterval ?? 500,
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
    this.publishing = driver?.publish !== undefined && options.invalidation !== false;
    this.busReady =
      driver?.subscribe && options.invalidation !== false
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
      this.emitter.emit('error', {
        operation: 'subscribe',
        error: new CacheError('ERR_CACHE_BACKEND', 'Could not subscribe to invalidations.', {
          cause: err,
        }),
      });
    }
    return up;
  }

  // ---- keys, entries, tiers -------------------------------------------------------------------

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
    this.clearedAt = ++this.seq;
  }

  private markInvalidated(fullKey: string): void {
    if (this.invalidated.size >= 10_000) {
      this.invalidated.clear();
      this.clearedAt = this.seq + 1;
    }
    this.invalidated.set(fullKey, ++this.seq);
  }

  /** The counter an L2 read takes before it starts; see `fillL1`. */
  get epoch(): number {
    return this.seq;
  }

  /** Puts an entry read from L2 into L1, unless the key was invalidated since `epoch`. */
  fillL1(fullKey: string, e: Entry, epoch: number): void {
    if (!this.l1 || this.clearedAt > epoch || (this.invalidated.get(fullKey) ?? 0) > epoch) return;
    this.storeL1(fullKey, e, this.graceMs, undefined);
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
    this.markInvalidated(fullKey);
    this.storeL1(
      fullKey,
      e,
      graceMs,
      tags?.map((t) => this.tagKey(t)),
    );
    const guard = this.guard;
    if (!guard?.up) return;
    const raw = encodeEntry(e);
    const opts = {
      ttlMs: e.ttlMs + graceMs,
      ...(tags && tags.length > 0 ? { tags: tags.map((t) => this.tagKey(t)) } : {}),
    };
    const key = fullKey.slice(this.prefix.length + 2);
    await Promise.all([
      guard.run('set', key, (d) => d.set(fullKey, raw, opts)),
      this.publish(guard, { k: [fullKey] }),
    ]);
  }

  private publish(guard: L2Guard, msg: { k?: string[]; c?: 1 }): Promise<unknown> {
    if (!this.publishing) return Promise.resolve();
    const text = JSON.stringify({ i: this.id, ...msg });
    return guard.run(
      'publish',
      undefined,
      (d) => d.publish?.(this.channel, text) ?? Promise.resolve(),
    );
  }

  private onBusMessage(text: string): void {
    let msg: { i?: string; k?: string[]; c?: number };
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (msg.i === this.id) return;
    if (msg.c === 1) {
      this.flushL1();
      for (const set of this.waiters.values()) for (const wake of set) wake();
      return;
    }
    for (const k of msg.k ?? []) {
      this.l1?.delete(k);
      this.markInvalidated(k);
      const set = this.waiters.get(k);
      if (set) for (const wake of [...set]) wake();
    }
  }

  emitHit(key: string, tier: 'l1' | 'l2', stale: boolean): void {
    if (this.emitter.has('hit')) this.emitter.emit('hit', { key, tier, stale });
  }

  emitMiss(key: string): void {
    if (this.emitter.has('miss')) this.emitter.emit('miss', { key });
  }

  // ---- public API -----------------------------------------------------------------------------

  async get<T = unknown>(key: string, options?: { signal?: AbortSignal }): Promise<T | undefined> {
    const fullKey = this.key(key);
    const hit = this.l1?.get(fullKey);
    if (hit !== undefined && hit.expiresAt > this.clock.now()) {
      this.emitHit(key, 'l1', false);
      return this.decode<T>(hit.payload);
    }
    const guard = this.guard;
    if (guard?.up) {
      const epoch = this.seq;
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
    this.emitter.emit('error', {
      operation: 'deserialize',
      key,
      error: new CacheError(
        'ERR_CACHE_SERIALIZE',
        'A stored value could not be read back; it was treated as a miss. Was it written with another serializer?',
        { cause },
      ),
    });
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
    this.markInvalidated(fullKey);
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
    for (const k of local) this.markInvalidated(k);
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
    this.flushL1();
    const guard = this.guard;
    if (!guard?.up) return;
    await Promise.all([
      guard.run('clear', undefined, (d) => d.clear(this.prefix)),
      this.publish(guard, { c: 1 }),
    ]);
  }

  async health(): Promise<CacheHealth> {
    const guard = this.guard;
    if (!guard) return { available: true, latencyMs: 0, backend: 'memory' };
    const driver = guard.driver;
    const start = performance.now();
    let timer: NodeJS.Timeout | undefined;
    let available = !this.closed;
    if (available) {
      try {
        const ping = driver.ping ? driver.ping() : driver.get(`${this.prefix}health`);
        await Promise.race([
          ping,
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error('timeout')), this.timeouts.command);
          }),
        ]);
      } catch {
        available = false;
      } finally {
        clearTimeout(timer);
      }
    }
    const latencyMs = Math.round((performance.now() - start) * 100) / 100;
    return { available, latencyMs, backend: driver.name };
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
    if (this.closed) return;
    this.closed = true;
    const guard = this.guard;
    guard?.stop();
    await this.unsubscribeBus?.().catch(() => {});
    await guard?.driver.close?.().catch(() => {});
    this.l1?.clear();
    for (const set of this.waiters.values()) for (const wake of set) wake();
    this.emitter.clear();
  }
}
