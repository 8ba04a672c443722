import type { HealthCheck } from '../types.js';

/** Anything that lists circuit breakers, like `breakers` from `@org/resilience`. */
export interface BreakerRegistry {
  list(): readonly { name: string; state: string }[];
}

/** Options of `breakersCheck`. */
export interface BreakersCheckOptions {
  /** The registry: pass `breakers` from `@org/resilience`, or any `{ list() }`. */
  registry: BreakerRegistry;
  /**
   * Open breakers warn (the report is `degraded`); with `failWhenOpen` they fail instead.
   * @default false
   */
  failWhenOpen?: boolean;
  /** Only a failure of a critical check makes the report unhealthy. @default false */
  critical?: boolean;
}

/** Checks every breaker of a registry: open breakers degrade the report; names are listed. */
export function breakersCheck(options: BreakersCheckOptions): HealthCheck {
  return {
    componentType: 'component',
    critical: options.critical ?? false,
    check() {
      const all = options.registry.list();
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
        status: options.failWhenOpen ? 'fail' : 'warn',
        reason: `open: ${open.join(', ')}`,
      };
    },
  };
}
