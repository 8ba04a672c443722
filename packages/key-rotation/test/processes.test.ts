import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { createFileKeyStore, createKeyRing } from '@org/key-rotation';
import { afterAll, describe, expect, it } from 'vitest';
import { encryptionKey } from './helpers.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '..');
const entry =
  process.env.ORG_TEST_DIST === '1' ? join(root, 'dist/index.js') : join(root, 'src/index.ts');
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('file store across processes', () => {
  it('concurrent rotate() in three processes: one signing key, no key lost', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keyring-proc-'));
    dirs.push(dir);
    const path = join(dir, 'ring.json');
    const first = await createKeyRing({
      algorithm: 'HS256',
      store: createFileKeyStore({ path }),
      encryptionKey,
      refreshInterval: 0,
    });
    const env = {
      ...process.env,
      KEYRING_ENTRY: entry,
      KEYRING_PATH: path,
      KEYRING_TEST_KEY: encryptionKey,
      ROTATIONS: '4',
    };
    const tsx = join(root, 'node_modules/tsx/dist/cli.mjs');
    const worker = join(root, 'test/fixtures/rotate-worker.ts');
    const outputs = await Promise.all(
      [1, 2, 3].map(() => run(process.execPath, [tsx, worker], { env, timeout: 30_000 })),
    );
    const rotated = outputs.flatMap((o) => JSON.parse(o.stdout) as string[]);
    expect(rotated).toHaveLength(12);
    await first.refresh();
    const keys = first.keys();
    expect(keys.filter((k) => k.status === 'active')).toHaveLength(1);
    expect(keys).toHaveLength(13);
    const kids = new Set(keys.map((k) => k.kid));
    for (const kid of rotated) expect(kids.has(kid)).toBe(true);
    await first.close();
  }, 45_000);
});
