import { type Clock, type Duration, systemClock } from '@org/core';
import { check, invalidOption } from './errors.js';
import type { SecretsProvider } from './provider.js';

/** Options of `createSecrets`. */
export interface SecretsOptions {
  /**
   * Where secrets come from: `envProvider({ env })` (the embedded default of
   * `createSecretsFromEnv`), `awsProvider()` from `@org/secrets/aws`, or your own.
   */
  provider: SecretsProvider;
  /**
   * Put in front of every name the app asks for, unless the name already starts with it
   * (`'cineview-'`: `get('gemini-api')` reads `cineview-gemini-api`). @default ''
   */
  prefix?: string | undefined;
  /** How long a value is served from the cache: ms, or a string such as `'5m'`. @default '5m' */
  ttl?: Duration | undefined;
  /**
   * How long before expiry a read starts a background refresh (the read itself is served from
   * the cache): ms or a string. @default a fifth of `ttl`
   */
  refreshAhead?: Duration | undefined;
  /**
   * How long past its `ttl` the last good value is still served while the provider fails (the
   * bound on staleness): ms or a string; `0` serves nothing stale. @default '1h'
   */
  maxStale?: Duration | undefined;
  /** The bound of each provider call: ms or a string. @default '5s' */
  timeout?: Duration | undefined;
  /**
   * The wait after a failed provider call before the next one for that secret, doubling with
   * each failure in a row: ms or a string. @default '1s'
   */
  backoff?: Duration | undefined;
  /** The longest of those waits: ms or a string. @default '1m' */
  maxBackoff?: Duration | undefined;
  /** The most secret versions the cache holds; the least recently read leave first. @default 1000 */
  maxEntries?: number | undefined;
  /**
   * Production mode: a missing or empty secret is always an error naming it, even with
   * `optional: true`. `createSecretsFromEnv` sets it when `NODE_ENV` is `production`.
   * @default false
   */
  production?: boolean | undefined;
  /**
   * Decides, for `withSecret`, whether an error of the app's callback means the secret was
   * refused (rotated under it). @default `isAuthError` (HTTP 401/403, common auth error codes)
   */
  isAuthError?: ((err: unknown) => boolean) | undefined;
  /** Aborting it aborts every provider call and ends the client, as `close()` does. */
  signal?: AbortSignal | undefined;
  /** The time source. @default systemClock */
  clock?: Clock | undefined;
}

/** The options with their defaults applied, durations in milliseconds. */
export interface ResolvedOptions {
  provider: SecretsProvider;
  prefix: string;
  ttlMs: number;
  refreshAheadMs: number;
  maxStaleMs: number;
  timeoutMs: number;
  backoffMs: number;
  maxBackoffMs: number;
  maxEntries: number;
  production: boolean;
  isAuthError: ((err: unknown) => boolean) | undefined;
  signal: AbortSignal | undefined;
  clock: Clock;
}

const DAY = 86_400_000;

/** Validates `options` once; throws `ERR_SECRETS_INVALID_OPTION` naming the bad option. */
export function resolveOptions(options: SecretsOptions): ResolvedOptions {
  const o = check.object(options, 'createSecrets options');
  const provider = o.provider;
  if (
    typeof provider !== 'object' ||
    provider === null ||
    typeof (provider as { get?: unknown }).get !== 'function'
  ) {
    throw invalidOption(
      '`provider` must be a secrets provider: envProvider({ env: process.env }), awsProvider() from @org/secrets/aws, or one of your own',
    );
  }
  const ttlMs = check.duration(o.ttl, 'ttl', '5m', { min: 0, max: 30 * DAY });
  const maxBackoffMs = check.duration(o.maxBackoff, 'maxBackoff', '1m', { min: 0, max: DAY });
  const signal = o.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw invalidOption('`signal` must be an AbortSignal');
  }
  const clock = o.clock ?? systemClock;
  if (typeof clock?.now !== 'function') throw invalidOption('`clock` must have a now() method');
  return {
    provider,
    prefix: o.prefix === '' ? '' : check.string(o.prefix, 'prefix', ''),
    ttlMs,
    refreshAheadMs: check.duration(o.refreshAhead, 'refreshAhead', ttlMs / 5, {
      min: 0,
      max: ttlMs,
    }),
    maxStaleMs: check.duration(o.maxStale, 'maxStale', '1h', { min: 0, max: 30 * DAY }),
    timeoutMs: check.duration(o.timeout, 'timeout', '5s', { min: 1, max: 10 * 60_000 }),
    backoffMs: check.duration(o.backoff, 'backoff', '1s', { min: 0, max: maxBackoffMs }),
    maxBackoffMs,
    maxEntries: check.integer(o.maxEntries, 'maxEntries', 1000, { min: 1 }),
    production: check.boolean(o.production, 'production', false),
    isAuthError: check.func<(err: unknown) => boolean>(o.isAuthError, 'isAuthError'),
    signal,
    clock,
  };
}
