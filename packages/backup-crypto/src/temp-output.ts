import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { removeStaleTemps } from './stale-temps.js';

/**
 * @internal Writes to a fresh temporary file beside `dst` (mode 0600, flushed to disk on close)
 * and moves it onto `dst` only when `produce` resolves; on any failure the temporary file is
 * removed, so `dst` is either the complete result or untouched. A run killed hard cannot remove
 * its file: the next run into the same `dst` removes such files once they are an hour old.
 */
export async function withTempOutput(
  dst: string,
  produce: (out: Writable) => Promise<void>,
): Promise<void> {
  await removeStaleTemps(dst);
  const tmp = join(dirname(dst), `.${basename(dst)}.${randomBytes(6).toString('hex')}.tmp`);
  const out = createWriteStream(tmp, { flags: 'wx', mode: 0o600, flush: true });
  try {
    await produce(out);
    await rename(tmp, dst);
  } catch (err) {
    // The file may still be opening: let the stream close before removing it.
    if (!out.closed) await once(out.destroy(), 'close').catch(() => {});
    await unlink(tmp).catch(() => {});
    throw err;
  }
}
