import { PassThrough } from 'node:stream';
import { type Clock, systemClock } from '@org/core';

/** @internal Files at least this large get a progress bar on a terminal (4 MiB). */
export const PROGRESS_MIN_BYTES = 4 * 1024 * 1024;

const mib = (n: number) => (n / 1048576).toFixed(n < 10 * 1048576 ? 1 : 0);

/**
 * @internal A pass-through that draws `label [#####.....] 42% 12/30 MiB 180 MiB/s` on `out`
 * (stderr), at most 10 times a second, and clears the line at the end.
 */
export function progressBar(
  label: string,
  total: number,
  out: NodeJS.WriteStream,
  clock: Clock = systemClock,
): PassThrough {
  const started = clock.now();
  let done = 0;
  let drawn = 0;
  const draw = () => {
    const width = 24;
    const ratio = total > 0 ? Math.min(1, done / total) : 1;
    const filled = Math.round(ratio * width);
    const secs = Math.max(0.001, (clock.now() - started) / 1000);
    const bar = '#'.repeat(filled) + '.'.repeat(width - filled);
    const pct = String(Math.floor(ratio * 100)).padStart(3);
    out.write(
      `\r${label} [${bar}] ${pct}%  ${mib(done)}/${mib(total)} MiB  ${mib(done / secs)} MiB/s `,
    );
  };
  return new PassThrough({
    transform(chunk: Buffer, _encoding, callback) {
      done += chunk.length;
      const now = clock.now();
      if (now - drawn >= 100) {
        drawn = now;
        draw();
      }
      callback(null, chunk);
    },
    flush(callback) {
      draw();
      out.write('\n');
      callback();
    },
  });
}
