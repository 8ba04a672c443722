import { statfs } from 'node:fs/promises';
import type { HealthCheck } from '../types.js';

/** Options of `diskCheck`. */
export interface DiskCheckOptions {
  /** A path on the file system to watch. @default process.cwd() */
  path?: string;
  /** Free space (for unprivileged users) below which the check fails, 0–1. @default 0.05 */
  failFreeRatio?: number;
  /** Free space below which the check warns, 0–1. @default 0.1 */
  warnFreeRatio?: number;
  /** Free space below which the check fails, in bytes. @default 0 */
  minFreeBytes?: number;
  /** @default false */
  critical?: boolean;
}

/** Checks free disk space with `fs.statfs`. */
export function diskCheck(options: DiskCheckOptions = {}): HealthCheck {
  const failRatio = options.failFreeRatio ?? 0.05;
  const warnRatio = options.warnFreeRatio ?? 0.1;
  const minFree = options.minFreeBytes ?? 0;
  return {
    componentType: 'system',
    critical: options.critical ?? false,
    async check() {
      const s = await statfs(options.path ?? process.cwd());
      const total = s.blocks * s.bsize;
      const free = s.bavail * s.bsize;
      const freeRatio = total > 0 ? free / total : 1;
      const usedPct = Math.round((1 - freeRatio) * 1000) / 10;
      const base = {
        measurement: 'utilization',
        observedValue: usedPct,
        observedUnit: '%',
        details: { freeBytes: free, totalBytes: total },
      };
      if (free < minFree)
        return { ...base, status: 'fail', reason: `${free} B free < ${minFree} B` };
      if (freeRatio < failRatio) return { ...base, status: 'fail', reason: `${usedPct}% used` };
      if (freeRatio < warnRatio) return { ...base, status: 'warn', reason: `${usedPct}% used` };
      return base;
    },
  };
}
