import { check, invalidOption } from '../errors.js';
import type { HealthCheck } from '../types.js';

/**
 * What the check needs of a breaker registry: `list()` of each breaker's name and state, like
 * `breakers` from `@org/resilience` (matched by shape: health depends on no other package).
 * `open` breakers count as open; `halfOpen` (or `half-open`) are listed apart.
 */
export interface BreakerRegistry {
  list(): readonly { readonly name: string; readonly state: string }[];
}

/** Options of `breakersCheck`. */
export interface BreakersCheckOptions {
  /** The registry: pass `breakers` from `@org/resilience`, or any `{ list() }`. */
  registry: BreakerRegistry;
  /**
   * Open breakers warn (the report is `degraded`); with `failWhenOpen` they fail instead.
   * @default false
   */
  failWhenOpen?: boolean | undefined;
  /** Only a failure of a critical check makes the report unhealthy. @default false */
  critical?: boolean | undefined;
}

/** Checks every breaker of a registry: open breakers degrade the report; names are listed. */
export function breakersCheck(options: BreakersCheckOptions): HealthCheck {
  const o = check.object(options, 'options');
  if (typeof o.registry?.list !== 'function') {
    throw invalidOption('`registry` must have list(): pass `breakers` from @org/resilience');
  }
  const { registry } = o;
  const failWhenOpen = check.boolean(o.failWhenOpen, 'failWhenOpen', false);
  return {
    componentType: 'component',
    critical: check.boolean(o.critical, 'critical', false),
    check() {
      const all = registry.list();
      const open = all.filter((b) => b.state === 'open').map((b) => b.name);
      const halfOpen = all
        .filter((b) => b.state === 'halfOpen' || b.state === 'half-open')
        .map((b) => b.name);
      const base = {
        measurement: 'open',
        observedValue: open.length,
        observedUnit: 'breakers',
        details: { total: all.length, open, halfOpen },
      };
      if (open.length === 0) return base;
      return {
        ...base,
        status: failWhenOpen ? 'fail' : 'warn',
        reason: `open: ${open.join(', ')}`,
      };
    },
  };
}
