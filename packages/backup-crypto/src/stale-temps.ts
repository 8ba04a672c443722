import { lstat, readdir, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';

/**
 * @internal Age past which a temporary file of this package counts as left by a run that was
 * killed (SIGKILL, OOM killer, power loss), which had no chance to remove it. A run still going
 * keeps touching its file, so an hour untouched means nobody is writing it.
 */
export const STALE_TEMP_MS = 60 * 60 * 1000;

/** @internal Prefix of the CLI's private scratch directories under `os.tmpdir()`. */
export const SCRATCH_PREFIX = 'backup-crypto-';

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** @internal The name of a temporary file beside `dst`: `.<name>.<12 hex>.tmp`. */
export function tempPattern(dst: string): RegExp {
  return new RegExp(`^\\.${escapeRegExp(basename(dst))}\\.[0-9a-f]{12}\\.tmp$`);
}

/** Whether an entry is ours to remove: this user's, and untouched since `cutoff`. */
function mine(s: { uid: number; mtimeMs: number }, cutoff: number): boolean {
  const uid = process.getuid?.();
  return (uid === undefined || s.uid === uid) && s.mtimeMs < cutoff;
}

/**
 * @internal Removes temporary files beside `dst` that a killed run left (this package's naming
 * for `dst`, a regular file of this user, untouched for `maxAgeMs`). Never throws.
 */
export async function removeStaleTemps(dst: string, maxAgeMs = STALE_TEMP_MS): Promise<void> {
  const dir = dirname(dst);
  const pattern = tempPattern(dst);
  const cutoff = Date.now() - maxAgeMs;
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    if (!pattern.test(name)) continue;
    const path = join(dir, name);
    const s = await lstat(path).catch(() => undefined);
    if (s?.isFile() && mine(s, cutoff)) await unlink(path).catch(() => {});
  }
}

/**
 * @internal Removes the CLI's scratch directories (`<os.tmpdir()>/backup-crypto-XXXXXX`) that a
 * killed run left: this user's, with nothing in them touched for `maxAgeMs`. Never throws.
 */
export async function removeStaleScratch(maxAgeMs = STALE_TEMP_MS): Promise<void> {
  const root = tmpdir();
  const cutoff = Date.now() - maxAgeMs;
  const pattern = new RegExp(`^${escapeRegExp(SCRATCH_PREFIX)}[A-Za-z0-9]{6}$`);
  const names = await readdir(root).catch(() => [] as string[]);
  for (const name of names) {
    if (!pattern.test(name)) continue;
    const path = join(root, name);
    const s = await lstat(path).catch(() => undefined);
    if (!s?.isDirectory() || !mine(s, cutoff)) continue;
    const inside = await readdir(path).catch(() => undefined);
    if (inside === undefined) continue;
    let stale = true;
    for (const entry of inside) {
      const e = await lstat(join(path, entry)).catch(() => undefined);
      if (e && !mine(e, cutoff)) stale = false;
    }
    if (stale) await rm(path, { recursive: true, force: true }).catch(() => {});
  }
}
