import type { Duration } from '@org/core';
import { check, invalidOption } from '../errors.js';
import type { HealthCheck } from '../types.js';

/**
 * What the check needs of an instance that reports its own health, like `@org/cache` and
 * `@org/storage` instances (matched by shape: health depends on no other package).
 */
export interface HealthReporter {
  health(options?: { signal?: AbortSignal }): Promise<{
    available: boolean;
    latencyMs: number;
    backend: string;
    error?: string | undefined;
  }>;
}

/** Options of `dependencyCheck`. */
export interface DependencyCheckOptions {
  /** @default 800 (ms; createHealth's `timeout`) */
  timeout?: Duration | undefined;
  /** @default true */
  critical?: boolean | undefined;
  /** IETF componentType. @default 'datastore' */
  componentType?: string | undefined;
}

/**
 * Checks an instance that reports its own health (`@org/cache`, `@org/storage`, or anything with
 * `health(): Promise<{ available, latencyMs, backend, error? }>`): unavailable fails, with
 * `error` (reduced to a safe reason) as the reason.
 */
export function dependencyCheck(
  target: HealthReporter,
  options: DependencyCheckOptions = {},
): HealthCheck {
  if (typeof target?.health !== 'function') {
    throw invalidOption(
      'dependencyCheck(target): target must have health(), like an @org/cache or @org/storage instance',
    );
  }
  const o = check.object(options, 'options');
  const timeout = check.duration(o.timeout, 'timeout', undefined, { min: 1 });
  const critical = check.boolean(o.critical, 'critical');
  return {
    componentType: check.string(o.componentType, 'componentType', 'datastore'),
    ...(timeout === undefined ? {} : { timeout }),
    ...(critical === undefined ? {} : { critical }),
    async check(signal) {
      const h = await target.health({ signal });
      const base = {
        observedValue: h.latencyMs,
        observedUnit: 'ms',
        details: { backend: h.backend },
      };
      if (!h.available) {
        return { ...base, status: 'fail', reason: h.error ?? `${h.backend} unavailable` };
      }
      return base;
    },
  };
}

/** `dependencyCheck` for an `@org/cache` instance. */
export const cacheCheck = dependencyCheck;
/** `dependencyCheck` for an `@org/storage` instance. */
export const storageCheck = dependencyCheck;
