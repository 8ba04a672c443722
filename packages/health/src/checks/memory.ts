import { getHeapStatistics } from 'node:v8';
import { check } from '../errors.js';
import type { HealthCheck } from '../types.js';

/** Options of `memoryCheck`. */
export interface MemoryCheckOptions {
  /** Heap used as a share of the heap limit above which the check warns, 0–1. @default 0.85 */
  warnHeapRatio?: number | undefined;
  /** Heap used as a share of the heap limit above which the check fails, 0–1. @default 0.95 */
  failHeapRatio?: number | undefined;
  /** Resident set size above which the check fails, in bytes. @default Infinity */
  maxRssBytes?: number | undefined;
  /** @default false */
  critical?: boolean | undefined;
}

/** Checks heap use against V8's heap limit, and RSS against `maxRssBytes`. */
export function memoryCheck(options: MemoryCheckOptions = {}): HealthCheck {
  const o = check.object(options, 'options');
  const share = { min: 0, max: 1 };
  const warn = check.number(o.warnHeapRatio, 'warnHeapRatio', 0.85, share);
  const fail = check.number(o.failHeapRatio, 'failHeapRatio', 0.95, share);
  const maxRss =
    check.number(o.maxRssBytes, 'maxRssBytes', undefined, { min: 0 }) ?? Number.POSITIVE_INFINITY;
  return {
    componentType: 'system',
    critical: check.boolean(o.critical, 'critical', false),
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
