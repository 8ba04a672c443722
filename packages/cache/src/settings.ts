import { type Clock, systemClock } from '@org/core';
import { check } from './errors.js';
import type { MemoryBounds } from './memory-store.js';
import { jsonSerializer, type Serializer } from './serializer.js';
import { DEFAULT_TTL_MS, resolvePresets, ttlToMs } from './ttl.js';
import type { CacheOptions } from './types.js';

const FRACTION = { min: 0, max: 1 };
const NON_NEGATIVE = { min: 0 };
const POSITIVE = { min: 1 };

/** Every option of `createCache`, validated, with its default applied; durations in ms. */
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
  /** TTL of a call that names none. */
  ttlMs: number;
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
  crossInstanceLock: boolean;
  sharedResults: boolean;
  /** At most one invalidation message of writes per this many ms; 0 = one per write. */
  invalidationWindowMs: number;
  /** Most keys, tags and prefixes remembered while L2 is degraded. */
  outageJournal: number;
}

/** Validates `options` (throwing `ERR_CACHE_INVALID_OPTION` with what to fix) and fills defaults. */
export function resolveSettings<P extends string>(options: CacheOptions<P>): Settings {
  check.object(options, 'options');
  const t = check.object(options.timeouts, 'timeouts');
  const lock = check.duration(t.lock, 'timeouts.lock', 5000, NON_NEGATIVE);
  const namespace = check.string(options.namespace, 'namespace', 'cache');
  const prefix = `${encodeURIComponent(namespace)}:`;
  let memory: Settings['memory'];
  if (options.memory !== false) {
    const m = check.object(options.memory, 'memory');
    memory = {
      maxEntries: check.number(m.maxEntries, 'memory.maxEntries', 10_000, NON_NEGATIVE),
      maxBytes: check.number(m.maxBytes, 'memory.maxBytes', 64 * 1024 * 1024, NON_NEGATIVE),
      ttlMs: check.duration(m.ttl, 'memory.ttl'),
    };
  }
  const presets = resolvePresets(options.presets);
  const failureThreshold = check.number(options.failureThreshold, 'failureThreshold', 3, {
    min: 0,
  });
  return {
    namespace,
    prefix,
    channel: `org-cache:${prefix}`,
    clock: options.clock ?? systemClock,
    random: check.func<() => number>(options.random, 'random') ?? Math.random,
    serializer: options.serializer ?? jsonSerializer,
    presets,
    ttlMs: options.ttl === undefined ? DEFAULT_TTL_MS : ttlToMs(options.ttl, presets),
    graceMs: check.duration(options.grace, 'grace', 0),
    jitter: check.number(options.jitter, 'jitter', 0.1, FRACTION),
    earlyRefresh: check.number(options.earlyRefresh, 'earlyRefresh', undefined, FRACTION),
    timeouts: {
      command: check.duration(t.command, 'timeouts.command', 250, POSITIVE),
      connect: check.duration(t.connect, 'timeouts.connect', 1000, POSITIVE),
      soft: check.duration(t.soft, 'timeouts.soft'),
      hard: check.duration(t.hard, 'timeouts.hard'),
      lock,
      lockWait: check.duration(t.lockWait, 'timeouts.lockWait', lock, NON_NEGATIVE),
    },
    memory,
    failureThreshold: Math.max(1, failureThreshold),
    probeIntervalMs: check.duration(options.probeInterval, 'probeInterval', 500),
    invalidation: check.boolean(options.invalidation, 'invalidation', true),
    crossInstanceLock: check.boolean(options.crossInstanceLock, 'crossInstanceLock', true),
    sharedResults: check.boolean(options.sharedResults, 'sharedResults', false),
    invalidationWindowMs: check.duration(options.invalidationWindow, 'invalidationWindow', 5, {
      min: 0,
      max: 1_000,
    }),
    outageJournal: Math.floor(
      check.number(options.outageJournal, 'outageJournal', 1_000, NON_NEGATIVE),
    ),
  };
}
