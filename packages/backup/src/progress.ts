import type { BackupEvents } from './events.js';

const MiB = 1024 * 1024;

/**
 * A one-line progress bar for a terminal: bytes, rate and (when the total is known) a bar.
 * Only for a TTY: `write` is the TTY's; nothing is drawn more than 10 times a second.
 */
export function progressBar(
  write: (text: string) => void,
  now: () => number = () => performance.now(),
) {
  const started = now();
  let last = 0;
  let drawn = false;
  return {
    update(p: BackupEvents['progress']): void {
      const t = now();
      if (t - last < 100 && p.bytes !== p.totalBytes) return;
      last = t;
      const rate = p.bytes / MiB / Math.max((t - started) / 1000, 0.001);
      const label = p.phase === 'dump' ? 'dumping' : p.phase === 'check' ? 'checking' : 'restoring';
      let bar = '';
      if (p.totalBytes !== undefined && p.totalBytes > 0) {
        const f = Math.min(1, p.bytes / p.totalBytes);
        const n = Math.round(f * 30);
        bar = ` [${'#'.repeat(n)}${'.'.repeat(30 - n)}] ${(f * 100).toFixed(0).padStart(3)}%`;
      }
      write(`\r${label}${bar} ${(p.bytes / MiB).toFixed(1)} MiB ${rate.toFixed(1)} MiB/s\x1b[K`);
      drawn = true;
    },
    /** Ends the line, if one was drawn. */
    done(): void {
      if (drawn) write('\n');
      drawn = false;
    },
  };
}
