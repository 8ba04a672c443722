import { getHeapStatistics } from 'node:v8';
import type { HealthCheck } from '../types.js';

/** Options of `memoryCheck`. */
export interface MemoryCheckOptions {
  /** Heap used as a share of the heap limit above which the check warns, 0–1. @default 0.85 */
  warnHeapRatio?: number;
  /** Heap used as a share of the heap limit above which the check fails, 0–1. @default 0.95 */
  failHeapRatio?: number;
  /** Resident set size above which the check fails, in bytes. @default Infinity */
  maxRssBytes?: number;
  /** @default false */
  critical?: boolean;
}

/** Checks heap use against V8's heap limit, and RSS against `maxRssBytes`. */
export function memoryCheck(options: MemoryCheckOptions = {}): HealthCheck {
  const warn = options.warnHeapRatio ?? 0.85;
  const fail = options.failHeapRatio ?? 0.95;
  const maxRss = options.maxRssBytes ?? Number.POSITIVE_INFINITY;
  return {
    componentType: 'system',
    critical: options.critical ?? false,
    check() {
      const { heapUsed, rss } = process.memoryUsage();
      const limit = getHeapStatistics().heap_size_limit;
      const ratio = heapUsed / limit;
      const pct = Math.round(ratio * 1000) / 10;
      const base = {
        measurement: 'utilization',
        observedValue: pct,
        observedUnit: '%',
        details: { heapUsedBytes: heapUsed, heapLimitBytes: limit, rssBytes: rss },
      };
      if (rss > maxRss) return { ...base, status: 'fail', reason: `RSS ${rss} B > ${maxRss} B` };
      if (ratio >= fail) return { ...base, status: 'fail', reason: `heap ${pct}% of limit` };
      if (ratio >= warn) return { ...base, status: 'warn', reason: `heap ${pct}% of limit` };
      return base;
    },
  };
}
