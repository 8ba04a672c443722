import { invalidOption } from './errors.js';
import { type Clock, type MemoryBounds, systemClock } from './memory-store.js';
import { jsonSerializer, type Serializer } from './serializer.js';
import { resolvePresets } from './ttl.js';
import type { CacheOptions } from './types.js';

/** Checks a fraction in [0, 1]; returns it or the fallback. */
export function fraction<F extends number | undefined>(
  name: string,
  v: number | undefined,
  fallback: F,
): number | F {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
    throw invalidOption(`\`${name}\` must be a fraction between 0 and 1; got ${String(v)}.`);
  }
  return v;
}

/** Checks a finite number >= 0; returns it or the fallback. */
export function nonNegative(name: string, v: number | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v)) {
    throw invalidOption(`\`${name}\` must be a number >= 0; got ${String(v)}.`);
  }
  return v;
}

function optional(name: string, v: number | undefined): number | undefined {
  return v === undefined ? undefined : nonNegative(name, v, 0);
}

/** Every option of `createCache`, validated, with its default applied. */
export interface Settings {
  namespace: string;
  /** `<URI-encoded namespace>:`, the start of every key of this cache. */
  prefix: string;
  /** The invalidation channel of this namespace. */
  channel: string;
  clock: Clock;
  random: () => number;
  serializer: Serializer;
  presets: Map<string, number>;
  graceMs: number;
  jitter: number;
  earlyRefresh: number | undefined;
  timeouts: {
    command: number;
    connect: number;
    soft: number | undefined;
    hard: number | undefined;
    lock: number;
    lockWait: number;
  };
  /** L1 bounds and TTL cap (ms), or undefined for no L1. */
  memory: (MemoryBounds & { ttlMs: number | undefined }) | undefined;
  failureThreshold: number;
  probeIntervalMs: number;
  invalidation: boolean;
  /** Most keys, tags and prefixes remembered while L2 is degraded. */
  outageJournal: number;
}

/** Validates `options` (throwing `ERR_CACHE_INVALID_OPTION` with what to fix) and fills defaults. */
export function resolveSettings<P extends string>(options: CacheOptions<P>): Settings {
  const t = options.timeouts ?? {};
  const lock = nonNegative('timeouts.lock', t.lock, 5000);
  const namespace = options.namespace ?? 'cache';
  if (typeof namespace !== 'string' || namespace === '') {
    throw invalidOption('`namespace` must be a non-empty string.');
  }
  const prefix = `${encodeURIComponent(namespace)}:`;
  let memory: Settings['memory'];
  if (options.memory !== false) {
    const m = options.memory ?? {};
    memory = {
      maxEntries: nonNegative('memory.maxEntries', m.maxEntries, 10_000),
      maxBytes: nonNegative('memory.maxBytes', m.maxBytes, 64 * 1024 * 1024),
      ttlMs: m.ttl === undefined ? undefined : nonNegative('memory.ttl', m.ttl, 0) * 1000,
    };
  }
  const failureThreshold = nonNegative('failureThreshold', options.failureThreshold, 3);
  return {
    namespace,
    prefix,
    channel: `org-cache:${prefix}`,
    clock: options.clock ?? systemClock,
    random: options.random ?? Math.random,
    serializer: options.serializer ?? jsonSerializer,
    presets: resolvePresets(options.ttl as Record<string, number>, options.env ?? process.env),
    graceMs: nonNegative('grace', options.grace, 0) * 1000,
    jitter: fraction('jitter', options.jitter, 0.1),
    earlyRefresh: fraction('earlyRefresh', options.earlyRefresh, undefined),
    timeouts: {
      command: nonNegative('timeouts.command', t.command, 250),
      connect: nonNegative('timeouts.connect', t.connect, 1000),
      soft: optional('timeouts.soft', t.soft),
      hard: optional('timeouts.hard', t.hard),
      lock,
      lockWait: nonNegative('timeouts.lockWait', t.lockWait, lock),
    },
    memory,
    failureThreshold: Math.max(1, failureThreshold),
    probeIntervalMs: nonNegative('probeInterval', options.probeInterval, 500),
    invalidation: options.invalidation !== false,
    outageJournal: Math.floor(nonNegative('outageJournal', options.outageJournal, 1_000)),
  };
}
