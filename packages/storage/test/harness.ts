import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isOrgError } from '@org/core';
import { createStorage } from '@org/storage';

export async function localHarness(root?: string) {
  const dir = root ?? (await mkdtemp(join(tmpdir(), 'org-storage-')));
  let server: Server | undefined;
  const port = await new Promise<number>((resolve) => {
    server = createServer((req, res) => void handler(req, res));
    server.listen(0, '127.0.0.1', () => {
      const a = server?.address();
      resolve(typeof a === 'object' && a ? a.port : 0);
    });
  });
  const storage = createStorage({
    local: {
      root: dir,
      fsync: false,
      signing: { secret: 'x'.repeat(32), baseUrl: `http://127.0.0.1:${port}/signed` },
    },
    namespaces: ['pdfs', 'uploads', 'logos'],
  });
  const handler = storage.handler();
  return {
    storage,
    root: dir,
    async close() {
      server?.closeAllConnections();
      await new Promise<void>((r) => server?.close(() => r()));
      await rm(dir, { recursive: true, force: true });
    },
    async leftovers() {
      const all = await readdir(dir, { recursive: true });
      return all.filter((p) => p.includes('.~tmp-'));
    },
  };
}

/** The `code` of the @org error `p` rejects with; undefined when it resolves. */
export async function code(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    if (!isOrgError(err)) throw err;
    return err.code;
  }
}
