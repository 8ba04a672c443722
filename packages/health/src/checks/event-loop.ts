import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { HealthCheck } from '../types.js';

/** Options of `eventLoopCheck`. */
export interface EventLoopCheckOptions {
  /** p99 delay above which the check warns, in ms. @default 200 */
  warnMs?: number;
  /** p99 delay above which the check fails, in ms. @default 1000 */
  failMs?: number;
  /** Sampling resolution of the monitor, in ms. @default 20 */
  resolution?: number;
  /** @default false */
  critical?: boolean;
}

/**
 * Checks event-loop delay (perf_hooks `monitorEventLoopDelay`): the p99 since the previous run
 * of the check. Monitoring starts when the check is created.
 */
export function eventLoopCheck(options: EventLoopCheckOptions = {}): HealthCheck {
  const warnMs = options.warnMs ?? 200;
  const failMs = options.failMs ?? 1_000;
  const histogram = monitorEventLoopDelay({ resolution: options.resolution ?? 20 });
  histogram.enable();
  return {
    componentType: 'system',
    critical: options.critical ?? false,
    check() {
      const p99 = histogram.count > 0 ? histogram.percentile(99) / 1e6 : 0;
      const max = histogram.count > 0 ? histogram.max / 1e6 : 0;
      histogram.reset();
      const observedValue = Math.round(p99 * 10) / 10;
      const base = {
        measurement: 'delay',
        observedValue,
        observedUnit: 'ms',
        details: { p99Ms: observedValue, maxMs: Math.round(max * 10) / 10 },
      };
      if (p99 >= failMs)
        return { ...base, status: 'fail', reason: `p99 delay ${observedValue} ms ≥ ${failMs} ms` };
      if (p99 >= warnMs)
        return { ...base, status: 'warn', reason: `p99 delay ${observedValue} ms ≥ ${warnMs} ms` };
      return base;
    },
  };
}
