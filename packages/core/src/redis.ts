/**
 * The one Redis option shape of the SDK (`redis: url | Redis | Cluster`) and its one set of
 * bounded client defaults, shared by every package that talks to Redis. This subpath imports
 * ioredis only when given a URL, and only its types otherwise.
 */
import type { Cluster, Redis, RedisOptions } from 'ioredis';
import type { Duration } from './duration.js';
import { CoreErrorCode, OrgError } from './errors.js';
import { type OptionErrorFactory, optionChecks } from './options.js';

/**
 * How a package is given Redis: a URL (`redis://…`, `rediss://…`; the package creates a client
 * with {@link boundedRedisOptions} and closes it in its `close()`), or an ioredis `Redis` or
 * `Cluster` the app already holds (used as is, never closed by the package).
 */
export type RedisOption = string | Redis | Cluster;

/** The bounds a created client gets, each a {@link Duration}. */
export interface RedisBounds {
  /** How long one connection attempt may take. @default '1s' */
  connectTimeout?: Duration | undefined;
  /** How long one command may take before it rejects. @default '500ms' */
  commandTimeout?: Duration | undefined;
  /** The longest wait between reconnection attempts (they back off 50 ms a try up to it). @default '1s' */
  maxReconnectDelay?: Duration | undefined;
  /** Further ioredis options; the bounds above win over the same keys here. */
  redisOptions?: RedisOptions | undefined;
}

/** The defaults of {@link RedisBounds}, in milliseconds. */
export const REDIS_DEFAULTS = Object.freeze({
  connectTimeoutMs: 1_000,
  commandTimeoutMs: 500,
  maxReconnectDelayMs: 1_000,
});

/**
 * ioredis options that never let a call wait on a dead Redis: no offline queue (a command on a
 * down connection rejects at once), a command timeout, a connect timeout, one retry per request,
 * and reconnection that backs off to `maxReconnectDelay`.
 */
export function boundedRedisOptions(
  bounds: RedisBounds = {},
  fail: OptionErrorFactory = coreFail,
): RedisOptions {
  const check = optionChecks(fail);
  const commandTimeout = check.duration(
    bounds.commandTimeout,
    'commandTimeout',
    REDIS_DEFAULTS.commandTimeoutMs,
    { min: 1 },
  );
  const connectTimeout = check.duration(
    bounds.connectTimeout,
    'connectTimeout',
    REDIS_DEFAULTS.connectTimeoutMs,
    { min: 1 },
  );
  const maxDelay = check.duration(
    bounds.maxReconnectDelay,
    'maxReconnectDelay',
    REDIS_DEFAULTS.maxReconnectDelayMs,
    { min: 1 },
  );
  return {
    ...bounds.redisOptions,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    commandTimeout: Math.ceil(commandTimeout),
    connectTimeout: Math.ceil(connectTimeout),
    maxRetriesPerRequest: 1,
    retryStrategy: (times: number) => Math.min(times * 50, maxDelay),
  };
}

/** A client and whether the package owns it (and so closes it). */
export interface RedisHandle<C extends Redis | Cluster = Redis | Cluster> {
  readonly client: C;
  /** True when the package created the client from a URL. */
  readonly owned: boolean;
  /**
   * Waits until the client is connected, at most `timeout` (default: the connect timeout, or
   * 1 s for an app's client). True when it is ready; false when it is not by then, or is closed.
   * Never throws: with no offline queue, a command sent before this resolves true rejects.
   */
  ready(timeout?: Duration): Promise<boolean>;
  /** Quits the client when owned; does nothing to an app's client. Never throws. */
  close(): Promise<void>;
}

/** Whether `value` looks like an ioredis `Redis` or `Cluster` (duck-typed across copies). */
export function isRedisClient(value: unknown): value is Redis | Cluster {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v['duplicate'] === 'function' &&
    typeof v['quit'] === 'function' &&
    typeof v['status'] === 'string'
  );
}

/** `url` with any password replaced by `***`, for messages. */
export function redactRedisUrl(url: string): string {
  return url.replace(
    /^([a-z][a-z0-9+.-]*:\/\/)([^@/?#]*)@/i,
    (_m, scheme: string, userinfo: string) => {
      const user = userinfo.includes(':') ? userinfo.slice(0, userinfo.indexOf(':')) : '';
      return `${scheme}${user ? `${user}:` : ''}***@`;
    },
  );
}

/**
 * The client for a {@link RedisOption}: the app's own as is, or one created from a URL with
 * {@link boundedRedisOptions} (loading ioredis only then). Throws what `fail` makes when the
 * option is neither, and what `missingPeer` makes (default: `fail`) when ioredis is not
 * installed; no message carries the URL or its password. The created client has an `error` listener, so reconnection errors reach callers
 * through rejected commands instead of being printed.
 */
export async function connectRedis(
  option: RedisOption,
  bounds: RedisBounds = {},
  fail: OptionErrorFactory = coreFail,
  missingPeer: OptionErrorFactory = fail,
): Promise<RedisHandle> {
  if (isRedisClient(option)) {
    return {
      client: option,
      owned: false,
      ready: (t) => waitReady(option, parseBound(t, REDIS_DEFAULTS.connectTimeoutMs, fail)),
      close: async () => {},
    };
  }
  if (typeof option !== 'string' || !/^rediss?:\/\//i.test(option)) {
    throw fail(
      '`redis` must be a redis:// or rediss:// URL, or an ioredis Redis or Cluster instance',
    );
  }
  const redisOptions = boundedRedisOptions(bounds, fail);
  let mod: typeof import('ioredis');
  try {
    mod = await import('ioredis');
  } catch (cause) {
    const err = missingPeer(
      '`redis` was given as a URL but the optional peer dependency `ioredis` is not installed: run `npm install ioredis`.',
    );
    (err as { cause?: unknown }).cause ??= cause;
    throw err;
  }
  const Ctor = mod.Redis ?? (mod as unknown as { default: typeof mod.Redis }).default;
  const client = new Ctor(option, redisOptions);
  client.on('error', () => {});
  const connectTimeout = redisOptions.connectTimeout ?? REDIS_DEFAULTS.connectTimeoutMs;
  return {
    client,
    owned: true,
    ready: (t) => waitReady(client, parseBound(t, connectTimeout, fail)),
    close: async () => {
      if (CLOSED.has(client.status)) return;
      const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
      try {
        await client.quit();
      } catch {
        client.disconnect();
      }
      // quit() resolves on the server's reply; the socket closes just after.
      await Promise.race([ended, sleepUnref(connectTimeout)]);
    },
  };
}

function parseBound(value: Duration | undefined, fallback: number, fail: OptionErrorFactory) {
  return optionChecks(fail).duration(value, 'timeout', fallback, { min: 0 });
}

const sleepUnref = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

const CLOSED = new Set(['end', 'close']);

function waitReady(client: Redis | Cluster, timeoutMs: number): Promise<boolean> {
  if (client.status === 'ready') return Promise.resolve(true);
  if (CLOSED.has(client.status)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('end', onEnd);
      resolve(ok);
    };
    const onReady = () => done(true);
    const onEnd = () => done(false);
    const timer = setTimeout(() => done(false), timeoutMs);
    client.on('ready', onReady);
    client.on('end', onEnd);
  });
}

function coreFail(message: string): Error {
  return new OrgError(CoreErrorCode.InvalidArgument, message);
}
