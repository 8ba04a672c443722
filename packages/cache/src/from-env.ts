import { type Duration, showValue, toMs } from '@org/core';
import { createCache } from './cache.js';
import { invalidOption } from './errors.js';
import { ttlEnvName } from './ttl.js';
import type { Cache, CacheOptions } from './types.js';

/** Options of `createCacheFromEnv`: those of `createCache`, and where to read the variables. */
export interface CacheEnvOptions<P extends string = never> extends CacheOptions<P> {
  /** The environment to read. @default process.env */
  env?: Readonly<Record<string, string | undefined>> | undefined;
}

/** A duration read from `name`: it must carry its unit, since a bare number once meant seconds. */
function envDuration(name: string, raw: string): Duration {
  // core's toMs refuses a string without a unit.
  const ms = toMs(raw);
  if (ms === undefined || ms <= 0) {
    throw invalidOption(
      `\`${name}\` must be a positive duration with its unit, such as '90s', '30m' or '12h' (a bare number is refused: it is ambiguous); got ${showValue(raw)}.`,
    );
  }
  return ms;
}

/**
 * `createCache`, configured from the environment as well. It reads exactly these variables, and
 * each one that is set and non-empty overrides the option it stands for:
 *
 * - `REDIS_URL`: `redis` (`redis://…` or `rediss://…`); unset or empty = the `redis` option, or
 *   memory only.
 * - `CACHE_TTL`: `ttl`, the TTL of a call that names none (a duration with its unit: `'10m'`).
 * - `CACHE_TTL_<PRESET>` for each preset in `options.presets` (`quoteTemplate` →
 *   `CACHE_TTL_QUOTE_TEMPLATE`, see `ttlEnvName`): that preset's TTL, so operators can retune
 *   a deployment without a code change. Variables for names the app did not define are ignored.
 *
 * Durations read from the environment must carry their unit (`'1800s'`, `'30m'`): a bare
 * number throws `ERR_CACHE_INVALID_OPTION`, naming the variable.
 */
export function createCacheFromEnv<const P extends string = never>(
  options: CacheEnvOptions<P> = {},
): Cache<P> {
  const { env = process.env, ...rest } = options;
  const redisUrl = env['REDIS_URL'];
  if (redisUrl !== undefined && redisUrl !== '' && !/^rediss?:\/\/./i.test(redisUrl)) {
    // Named here: createCache's own message speaks of the `redis` option, which the app never set.
    throw invalidOption(
      `\`REDIS_URL\` must be a redis:// or rediss:// URL (redis://host:6379), or unset for memory only; got ${showValue(redisUrl)}.`,
    );
  }
  const ttl = env['CACHE_TTL'];
  let presets = rest.presets;
  if (presets !== undefined && typeof presets === 'object' && presets !== null) {
    const tuned: Record<string, Duration> = { ...presets };
    for (const name of Object.keys(presets)) {
      const raw = env[ttlEnvName(name)];
      if (raw !== undefined && raw !== '') tuned[name] = envDuration(ttlEnvName(name), raw);
    }
    presets = tuned as Readonly<Record<P, Duration>>;
  }
  return createCache<P>({
    ...rest,
    presets,
    ...(redisUrl !== undefined && redisUrl !== '' ? { redis: redisUrl } : {}),
    ...(ttl !== undefined && ttl !== '' ? { ttl: envDuration('CACHE_TTL', ttl) } : {}),
  });
}
