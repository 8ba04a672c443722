import { type Duration, TimeoutError, withTimeout } from '@org/core';
import { connectRedis, isRedisClient, type RedisHandle, type RedisOption } from '@org/core/redis';
import type { Cluster, Redis, RedisOptions } from 'ioredis';
import type { Decision } from '../algorithms.js';
import { backendError, backendFailure, check, invalidOption, redisFail } from '../errors.js';
import type { RateLimitStore } from '../store.js';
import type { Rule } from '../tiers.js';
import { FIXED_SCRIPT, FIXED_SHA } from './redis-fixed-script.js';
import { LIMIT_SCRIPT, LIMIT_SHA, ruleSpec } from './redis-script.js';

/** Options of {@link createRedisStore}. */
export interface RedisStoreOptions {
  /**
   * How long one check may wait on Redis before it counts as a failure (and the tier falls back
   * to its `failurePolicy`). Also the command timeout of a client created from a URL.
   * @default '100ms'
   */
  timeout?: Duration | undefined;
  /** Gives up a connection attempt of a client created from a URL after this. @default '1s' */
  connectTimeout?: Duration | undefined;
  /** Further ioredis options for a client created from a URL (auto-pipelining is on). */
  redisOptions?: RedisOptions | undefined;
}

/** The Redis store, with its client exposed for advanced use. */
export interface RedisStore extends RateLimitStore {
  readonly kind: 'redis';
  /** The timeout of one call, in ms. */
  readonly timeoutMs: number;
  /** The ioredis client (created on first use when given a URL). */
  client(): Promise<Redis | Cluster>;
}

/** The default bound on one Redis check, in ms: a limit check must not hold a request up. */
export const REDIS_TIMEOUT_MS = 100;

type Reply = [number, number, number, number];

/**
 * A store on Redis (ioredis 5, standalone or Cluster): one `EVALSHA` per check, reloading the
 * script on `NOSCRIPT`, one hash key per client. Keys must carry a `{hash tag}` on Cluster (the
 * limiter's do). Given a URL it creates its client through core's `connectRedis`, with
 * auto-pipelining on, and closes it in `close()`; an app's client is used as is.
 */
export function createRedisStore(redis: RedisOption, options: RedisStoreOptions = {}): RedisStore {
  if (!isRedisClient(redis) && (typeof redis !== 'string' || !/^rediss?:\/\//i.test(redis))) {
    throw invalidOption(
      '`redis` must be a redis:// or rediss:// URL, or an ioredis Redis or Cluster instance',
    );
  }
  const o = check.object(options, 'options');
  const timeoutMs = check.duration(o.timeout, 'timeout', REDIS_TIMEOUT_MS, { min: 1 });
  const connectTimeout = check.duration(o.connectTimeout, 'connectTimeout', '1s', { min: 1 });
  let handle: RedisHandle | undefined;
  let loading: Promise<RedisHandle> | undefined;
  let closed = false;

  const load = (): Promise<RedisHandle> => {
    loading ??= connectRedis(
      redis,
      {
        commandTimeout: timeoutMs,
        connectTimeout,
        redisOptions: { enableAutoPipelining: true, ...o.redisOptions },
      },
      redisFail,
    ).then((h) => {
      if (closed) void h.close();
      handle = h;
      return h;
    });
    return loading;
  };
  // Connect at once, so the first checks do not pay for it.
  if (typeof redis === 'string') load().catch(() => {});

  const client = async (): Promise<Redis | Cluster> => {
    const h = handle ?? (await load());
    const c = h.client;
    if (c.status === 'wait') void c.connect().catch(() => {});
    if (c.status !== 'ready' && !(await h.ready(timeoutMs))) {
      throw backendFailure(`Redis is not connected (status ${c.status})`);
    }
    return c;
  };

  const parse = (reply: unknown): Decision => {
    if (!Array.isArray(reply) || reply.length !== 4) {
      throw backendFailure('Redis gave no usable answer to the rate-limit script');
    }
    const [allowed, remaining, resetMs, retryAfterMs] = reply as Reply;
    return { allowed: allowed === 1, remaining, resetMs, retryAfterMs };
  };

  // EVALSHA, loading the script on NOSCRIPT (a restarted or flushed Redis). Written as one
  // promise chain, not nested async functions: this is the hot path.
  // After EVALSHA failed: EVAL (which loads the script) when Redis did not have it (a restarted
  // or flushed Redis), else the failure as this package reports it.
  const reload = (
    err: unknown,
    c: Redis | Cluster,
    script: string,
    args: (string | number)[],
    keys: number,
  ): Promise<Decision> => {
    if (!String((err as Error)?.message).includes('NOSCRIPT')) return Promise.reject(failure(err));
    return c.eval(script, keys, ...args).then(parse, (e: unknown) => {
      throw failure(e);
    });
  };

  const evalScript = (
    c: Redis | Cluster,
    sha: string,
    script: string,
    args: (string | number)[],
    keys: number,
  ): Promise<Decision> =>
    c.evalsha(sha, keys, ...args).then(parse, (err: unknown) => reload(err, c, script, args, keys));

  const run = (
    c: Redis | Cluster,
    key: string,
    rule: Rule,
    cost: number,
    now: number,
    commit: boolean,
  ): Promise<Decision> => {
    const at = Math.floor(now);
    const flag = commit ? 1 : 0;
    if (rule.algorithm === 'fixed-window') {
      const start = at - (at % rule.windowMs);
      const end = start + rule.windowMs - at;
      // A tier without blockFor sends one key and four arguments: no block to read.
      if (rule.blockForMs === 0) {
        // The hot path: positional arguments, no array to build and spread, no commit flag.
        const count = `${key}:${start}`;
        const sent = commit
          ? c.evalsha(FIXED_SHA, 1, count, cost, rule.limit, end)
          : c.evalsha(FIXED_SHA, 1, count, cost, rule.limit, end, 0);
        return sent.then(parse, (err: unknown) => {
          const args = commit ? [count, cost, rule.limit, end] : [count, cost, rule.limit, end, 0];
          return reload(err, c, FIXED_SCRIPT, args, 1);
        });
      }
      const block = [
        `${key}:${start}`,
        `${key}:b`,
        cost,
        rule.limit,
        end,
        flag,
        rule.blockForMs,
        at,
      ];
      return evalScript(c, FIXED_SHA, FIXED_SCRIPT, block, 2);
    }
    return evalScript(c, LIMIT_SHA, LIMIT_SCRIPT, [key, ruleSpec(rule), cost, at, flag], 1);
  };

  const decideOn = (key: string, rule: Rule, cost: number, now: number, commit: boolean) => {
    const c = handle?.client;
    if (c?.status === 'ready') return run(c, key, rule, cost, now, commit);
    return client().then((ready) => run(ready, key, rule, cost, now, commit));
  };

  // ioredis's own command timeout, reported as core's TimeoutError like the limiter's.
  const failure = (err: unknown) =>
    (err as Error)?.message === 'Command timed out'
      ? new TimeoutError(timeoutMs, 'Redis rate-limit check', { cause: err })
      : backendError(err);

  return {
    kind: 'redis',
    timeoutMs,
    selfBounded(limitMs) {
      const c = handle?.client;
      if (c?.status !== 'ready') return false;
      const o = c.options as RedisOptions & { redisOptions?: RedisOptions };
      const bound = o.commandTimeout ?? o.redisOptions?.commandTimeout;
      return bound !== undefined && bound <= limitMs;
    },
    client,
    consume: (key, rule, cost, now) => decideOn(key, rule, cost, now, true),
    peek: (key, rule, cost, now) => decideOn(key, rule, cost, now, false),
    async reset(key, rule, now) {
      const c = await client();
      const at = Math.floor(now);
      const keys =
        rule.algorithm === 'fixed-window'
          ? [`${key}:${at - (at % rule.windowMs)}`, `${key}:b`]
          : [key];
      await c.del(...keys).catch((e: unknown) => {
        throw backendError(e);
      });
    },
    async ready() {
      try {
        const h = handle ?? (await load());
        if (h.client.status === 'wait') void h.client.connect().catch(() => {});
        return await h.ready(connectTimeout);
      } catch {
        return false;
      }
    },
    async ping() {
      await withTimeout(
        async () => {
          const c = await client();
          // An auto-pipelined command can settle without a reply when its batch fails: only a
          // PONG proves Redis answered.
          const pong = await c.ping();
          if (pong !== 'PONG') throw backendFailure('Redis did not answer PING');
        },
        { timeoutMs, what: 'Redis PING' },
      );
    },
    async close() {
      closed = true;
      await handle?.close();
    },
  };
}
