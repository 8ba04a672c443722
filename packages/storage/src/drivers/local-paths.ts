import type { Dirent } from 'node:fs';
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { throwIfAborted } from '@org/core';
import { isStorageError, StorageError, StorageErrorCode } from '../errors.js';
import type { ObjectInfo } from '../types.js';

/** Name of the folder beside objects that holds their metadata sidecars. */
export const META_DIR = '.~meta';
/** Prefix of temporary files (the key rules reserve `.~`, so no key can collide). */
export const TMP_PREFIX = '.~tmp-';

/** File of an object. */
export function objectPath(root: string, key: string): string {
  return join(root, ...key.split('/'));
}

/** Sidecar of an object: `<dir>/.~meta/<name>`. */
export function metaPath(root: string, key: string): string {
  const parts = key.split('/');
  const name = parts.pop() as string;
  return join(root, ...parts, META_DIR, name);
}

function isInside(rootReal: string, p: string): boolean {
  const rel = relative(rootReal, p);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !rel.startsWith(sep));
}

function outside(key: string): StorageError {
  return new StorageError(
    StorageErrorCode.InvalidKey,
    `Invalid storage key ${JSON.stringify(key)}: it resolves outside the storage root through a symlink; remove the link`,
    { key },
  );
}

/**
 * Refuses a path whose deepest existing ancestor (or itself, with `self`) resolves outside
 * the root through a symlink.
 */
export async function assertInside(
  rootReal: string,
  path: string,
  key: string,
  self = false,
): Promise<void> {
  let p = self ? path : dirname(path);
  for (;;) {
    try {
      const real = await realpath(p);
      if (!isInside(rootReal, real)) throw outside(key);
      return;
    } catch (err) {
      if (isStorageError(err)) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
      const up = dirname(p);
      if (up === p) return;
      p = up;
    }
  }
}

// S3 lists keys in UTF-8 byte order. Sorting each folder's entries by name, with folders
// compared as "name/", walks the tree in exactly that order.
function byteOrder(a: Dirent, b: Dirent): number {
  const an = a.isDirectory() ? `${a.name}/` : a.name;
  const bn = b.isDirectory() ? `${b.name}/` : b.name;
  return Buffer.compare(Buffer.from(an), Buffer.from(bn));
}

function before(a: string, b: string): boolean {
  return Buffer.compare(Buffer.from(a), Buffer.from(b)) < 0;
}

/** Up to `limit` objects under `prefix` whose key sorts after `cursor`, in S3 order. */
export async function walk(
  root: string,
  prefix: string,
  cursor: string | undefined,
  limit: number,
  signal?: AbortSignal,
): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  const startDir = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
  const visit = async (dirKey: string): Promise<void> => {
    throwIfAborted(signal, 'storage list');
    let entries: Dirent[];
    try {
      entries = await readdir(dirKey === '' ? root : objectPath(root, dirKey), {
        withFileTypes: true,
      });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw err;
    }
    entries.sort(byteOrder);
    for (const e of entries) {
      if (out.length >= limit) return;
      if (e.name.startsWith('.~')) continue;
      const key = dirKey === '' ? e.name : `${dirKey}/${e.name}`;
      if (e.isDirectory()) {
        const sub = `${key}/`;
        const matches = sub.startsWith(prefix) || prefix.startsWith(sub);
        const pending = cursor === undefined || before(cursor, sub) || cursor.startsWith(sub);
        if (matches && pending) await visit(key);
      } else if (e.isFile()) {
        if (!key.startsWith(prefix) || (cursor !== undefined && !before(cursor, key))) continue;
        const st = await stat(objectPath(root, key)).catch(() => undefined);
        if (st?.isFile()) out.push({ key, size: st.size, lastModified: st.mtime });
      }
    }
  };
  await visit(startDir);
  return out;
}

/** Whether a path is a directory (without following a final symlink). */
export async function isDirectory(path: string): Promise<boolean> {
  const st = await lstat(path).catch(() => undefined);
  return st?.isDirectory() ?? false;
}
