import type { HealthCheck } from '../types.js';

/** Anything that reports its own health, like `@org/cache` and `@org/storage` instances. */
export interface HealthReporter {
  health(options?: {
    signal?: AbortSignal;
  }): Promise<{ available: boolean; latencyMs: number; backend: string; error?: string }>;
}

/** Options of `dependencyCheck`. */
export interface DependencyCheckOptions {
  /** @default 800 (the createHealth default) */
  timeout?: number;
  /** @default true */
  critical?: boolean;
  /** IETF componentType. @default 'datastore' */
  componentType?: string;
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
  return {
    componentType: options.componentType ?? 'datastore',
    ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
    ...(options.critical === undefined ? {} : { critical: options.critical }),
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
