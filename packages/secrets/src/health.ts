import { throwIfAborted } from '@org/core';
import type { Entry } from './cache.js';
import type { ResolvedOptions } from './options.js';

/** What `healthCheck` returns: an `@org/health` check outcome. */
export interface SecretsHealth {
  /** `ok`, `warn` (stale values bridge a failure: degraded) or `fail` (a secret has no value). */
  status: 'ok' | 'warn' | 'fail';
  /** Why, when not `ok`: names and error codes only. */
  reason?: string;
  details: {
    /** Secret versions cached. */
    cached: number;
    /** Names whose last provider call failed and that are served from the cache. */
    stale: string[];
    /** Names whose last provider call failed and that have no value to serve. */
    failing: string[];
    /** The error codes of those failures. */
    codes: string[];
  };
}

/** The health of a cache: see `Secrets.healthCheck`. */
export function secretsHealth(
  entries: Iterable<Entry>,
  o: ResolvedOptions,
  signal?: AbortSignal,
): SecretsHealth {
  throwIfAborted(signal);
  const now = o.clock.now();
  const stale: string[] = [];
  const failing: string[] = [];
  const codes = new Set<string>();
  let cached = 0;
  for (const e of entries) {
    if (e.value !== undefined) cached += 1;
    if (e.failures === 0) continue;
    if (e.lastCode !== undefined) codes.add(e.lastCode);
    const label = e.version === '' ? e.name : `${e.name} (${e.version})`;
    if (e.value !== undefined && now <= e.expiresAt + o.maxStaleMs) stale.push(label);
    else failing.push(label);
  }
  const details = { cached, stale, failing, codes: [...codes] };
  const why = codes.size > 0 ? ` (${[...codes].join(', ')})` : '';
  if (failing.length > 0) {
    return {
      status: 'fail',
      reason: `${o.provider.kind} provider failing${why}; no value for ${failing.join(', ')}`,
      details,
    };
  }
  if (stale.length > 0) {
    return {
      status: 'warn',
      reason: `${o.provider.kind} provider failing${why}; serving cached values of ${stale.join(', ')}`,
      details,
    };
  }
  return { status: 'ok', details };
}
