import type { Duration } from '@org/core';
import { check, invalidOption } from './errors.js';

/** How requests are counted. */
export type Algorithm = 'fixed-window' | 'sliding-window' | 'token-bucket';

/** What a tier does when Redis cannot be reached (see the README's "When Redis fails"). */
export type FailurePolicy = 'open' | 'closed' | 'local';

/** The settings of one tier that a route may override. */
export interface TierSettings {
  /** Requests (in cost units) allowed per `window`; for `token-bucket`, the bucket's capacity. */
  limit?: number | undefined;
  /** The window: milliseconds or a string with a unit (`'1m'`, `'1h'`). */
  window?: Duration | undefined;
  /** How requests are counted. @default 'sliding-window' */
  algorithm?: Algorithm | undefined;
  /**
   * `token-bucket` only: tokens put back per `window`, spread evenly over it.
   * @default limit (an empty bucket is full again after one window)
   */
  refillRate?: number | undefined;
  /** What one request costs, in the units of `limit`, unless `limit()` says otherwise. @default 1 */
  cost?: number | undefined;
  /**
   * Once a request is refused, refuse every request of that id for this long (brute-force
   * lockout), counted from the refusal. `0` for none. @default 0
   */
  blockFor?: Duration | undefined;
  /** What to do when Redis cannot be reached. @default the limiter's `failurePolicy` */
  failurePolicy?: FailurePolicy | undefined;
}

/** A tier: `limit` per `window`, and per-route overrides, counted apart, by route name. */
export interface TierOptions extends TierSettings {
  limit: number;
  window: Duration;
  /** Settings that differ on a route (`{ 'POST /login': { limit: 3 } }`); each route counts apart. */
  routes?: Record<string, TierSettings> | undefined;
}

/** A tier's settings, checked and in milliseconds: what the stores compute with. */
export interface Rule {
  readonly tier: string;
  readonly route: string | undefined;
  readonly limit: number;
  readonly windowMs: number;
  readonly algorithm: Algorithm;
  /** Tokens per window (token bucket); equals `limit` for the window algorithms. */
  readonly refillRate: number;
  readonly cost: number;
  readonly blockForMs: number;
  readonly failurePolicy: FailurePolicy;
}

const ALGORITHMS: readonly Algorithm[] = ['fixed-window', 'sliding-window', 'token-bucket'];
export const POLICIES: readonly FailurePolicy[] = ['open', 'closed', 'local'];

// A route that changes neither the limit nor the rate keeps its tier's refill rate.
function inheritedRate(o: TierSettings, base: Rule | undefined): number | undefined {
  return base?.algorithm === 'token-bucket' && o.limit === undefined ? base.refillRate : undefined;
}

function toRule(
  tier: string,
  route: string | undefined,
  o: TierSettings,
  base: Rule | undefined,
  fallbackPolicy: FailurePolicy,
): Rule {
  const at = route === undefined ? `tiers.${tier}` : `tiers.${tier}.routes["${route}"]`;
  const limit = check.integer(o.limit ?? base?.limit, `${at}.limit`, undefined, { min: 1 });
  if (limit === undefined) throw invalidOption(`\`${at}.limit\` is required: a whole number ≥ 1`);
  const windowMs = check.duration(o.window ?? base?.windowMs, `${at}.window`, undefined, {
    min: 1,
  });
  if (windowMs === undefined) {
    throw invalidOption(`\`${at}.window\` is required: a duration such as '1m'`);
  }
  const algorithm = check.oneOf(
    o.algorithm,
    `${at}.algorithm`,
    ALGORITHMS,
    base?.algorithm ?? 'sliding-window',
  );
  const refillRate =
    algorithm === 'token-bucket'
      ? check.number(o.refillRate, `${at}.refillRate`, inheritedRate(o, base) ?? limit, {
          min: Number.MIN_VALUE,
        })
      : limit;
  const cost = check.number(o.cost, `${at}.cost`, base?.cost ?? 1, { min: 0, max: limit });
  return {
    tier,
    route,
    limit,
    windowMs: Math.ceil(windowMs),
    algorithm,
    refillRate,
    cost,
    blockForMs: Math.ceil(
      check.duration(o.blockFor, `${at}.blockFor`, base?.blockForMs ?? 0, { min: 0 }),
    ),
    failurePolicy: check.oneOf(
      o.failurePolicy,
      `${at}.failurePolicy`,
      POLICIES,
      base?.failurePolicy ?? fallbackPolicy,
    ),
  };
}

/**
 * Declares tiers apart from `createRateLimiter` (in a config module, say) with their types kept:
 * `'1m'` stays a `Duration`, and the names become the limiter's tier names.
 */
export function defineTiers<T extends string>(
  tiers: Record<T, TierOptions>,
): Record<T, TierOptions> {
  return tiers;
}

/** Every tier's rules: the tier's own under `''`, and one per route override. */
export type RuleBook = ReadonlyMap<string, ReadonlyMap<string, Rule>>;

/** Checks `tiers` and builds the rules; throws `ERR_RATE_LIMIT_INVALID_OPTION` naming the option. */
export function buildRules(
  tiers: Record<string, TierOptions> | undefined,
  failurePolicy: FailurePolicy,
): RuleBook {
  const t = check.object(tiers, 'tiers');
  const names = Object.keys(t);
  if (names.length === 0) {
    throw invalidOption(
      '`tiers` must name at least one tier, e.g. { read: { limit: 120, window: "1m" } }',
    );
  }
  const book = new Map<string, Map<string, Rule>>();
  for (const name of names) {
    if (!/^[\w.-]{1,64}$/.test(name)) {
      throw invalidOption(
        `tier names must be 1-64 letters, digits, '_', '.' or '-'; got ${JSON.stringify(name.slice(0, 32))}`,
      );
    }
    const opts = check.object(t[name], `tiers.${name}`);
    const own = toRule(name, undefined, opts, undefined, failurePolicy);
    const rules = new Map<string, Rule>([['', own]]);
    const routes = check.object(opts.routes, `tiers.${name}.routes`);
    for (const [route, settings] of Object.entries(routes)) {
      rules.set(route, toRule(name, route, check.object(settings, 'route'), own, failurePolicy));
    }
    book.set(name, rules);
  }
  return book;
}
