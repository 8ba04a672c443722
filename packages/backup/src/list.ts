import { describeError } from '@org/core';
import { type Manifest, parseKey, parseManifest } from './manifest.js';
import { check, type Resolved, targetNamed } from './options.js';

/** One backup as `list` sees it. */
export interface BackupEntry {
  id: string;
  database: string;
  target: string;
  createdAt: Date;
  /** `complete`: data and manifest are both there. `incomplete`: one is missing (an upload that did not finish). */
  status: 'complete' | 'incomplete';
  /** Bytes of the stored object. */
  bytes?: number | undefined;
  tag?: string | undefined;
  /** When a restore test last passed. */
  verifiedAt?: Date | undefined;
  /** Whether the last restore test failed. */
  verifyFailed?: boolean | undefined;
  manifest?: Manifest | undefined;
  /** Why the manifest could not be read, when it could not. */
  error?: string | undefined;
}

/** Options of `list`. */
export interface ListRequest {
  /** The target to list. @default the first target */
  target?: string | undefined;
  /** The database. @default the configured database's name */
  database?: string | undefined;
  signal?: AbortSignal | undefined;
}

const idTime = (id: string) =>
  new Date(
    `${id.slice(0, 4)}-${id.slice(4, 6)}-${id.slice(6, 8)}T${id.slice(9, 11)}:${id.slice(11, 13)}:${id.slice(13, 15)}Z`,
  );

/** @internal Every backup of `database` on `target`, newest first (pages past 1,000 objects). */
export async function listBackups(r: Resolved, request: ListRequest = {}): Promise<BackupEntry[]> {
  const req = check.object(request, 'request');
  const target = check.string(req.target, 'target', [...r.targets.keys()][0]!);
  const database = check.string(req.database, 'database', r.db.database);
  const storage = targetNamed(r, target);
  const seen = new Map<string, { data?: number; manifest: boolean }>();
  for await (const info of storage.list(`${database}/`, { signal: req.signal })) {
    const k = parseKey(info.key);
    if (!k || info.key.includes('/', database.length + 1)) continue;
    const e = seen.get(k.id) ?? { manifest: false };
    if (k.kind === 'data') e.data = info.size;
    else e.manifest = true;
    seen.set(k.id, e);
  }
  const ids = [...seen.keys()].sort().reverse();
  const out: BackupEntry[] = ids.map((id) => {
    const e = seen.get(id)!;
    return { id, database, target, createdAt: idTime(id), status: 'incomplete', bytes: e.data };
  });
  // Manifests are read a few at a time.
  let next = 0;
  const worker = async () => {
    while (next < out.length) {
      const entry = out[next++]!;
      const e = seen.get(entry.id)!;
      if (!e.manifest) continue;
      try {
        const m = parseManifest(
          await storage.getBuffer(`${database}/${entry.id}.manifest.json`, { signal: req.signal }),
        );
        entry.manifest = m;
        entry.createdAt = new Date(m.createdAt);
        entry.tag = m.tag;
        if (e.data !== undefined && e.data === m.ciphertext.bytes) entry.status = 'complete';
        if (m.verification?.ok && m.verification.verifiedAt)
          entry.verifiedAt = new Date(m.verification.verifiedAt);
        if (m.verification && !m.verification.ok) entry.verifyFailed = true;
      } catch (err) {
        if (req.signal?.aborted) throw err;
        entry.error = describeError(err);
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  // Ids carry the second only: within one second their random suffixes would decide which is
  // "latest". The manifest's createdAt has the millisecond; the id breaks what ties remain.
  return out.sort(
    (a, b) =>
      b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0),
  );
}
