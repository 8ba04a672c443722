import { statfs } from 'node:fs/promises';
import { check } from '../errors.js';
import type { HealthCheck } from '../types.js';

/** Options of `diskCheck`. */
export interface DiskCheckOptions {
  /** A path on the file system to watch. @default process.cwd() */
  path?: string | undefined;
  /** Free space (for unprivileged users) below which the check fails, 0–1. @default 0.05 */
  failFreeRatio?: number | undefined;
  /** Free space below which the check warns, 0–1. @default 0.1 */
  warnFreeRatio?: number | undefined;
  /** Free space below which the check fails, in bytes. @default 0 */
  minFreeBytes?: number | undefined;
  /** @default false */
  critical?: boolean | undefined;
}

/** Checks free disk space with `fs.statfs`. */
export function diskCheck(options: DiskCheckOptions = {}): HealthCheck {
  const o = check.object(options, 'options');
  const share = { min: 0, max: 1 };
  const failRatio = check.number(o.failFreeRatio, 'failFreeRatio', 0.05, share);
  const warnRatio = check.number(o.warnFreeRatio, 'warnFreeRatio', 0.1, share);
  const minFree = check.number(o.minFreeBytes, 'minFreeBytes', 0, { min: 0 });
  const path = check.string(o.path, 'path');
  return {
    componentType: 'system',
    critical: check.boolean(o.critical, 'critical', false),
    async check() {
      const s = await statfs(path ?? process.cwd());
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
