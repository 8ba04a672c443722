import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decryptFile, encryptFile, generateKey } from '@org/backup-crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { peerScript, pyFernet, pythonReady, run } from './helpers/python.js';

// Heavy (hundreds of MiB through both sides): once per CI run, not on the built-package runs.
const heavy = process.env.ORG_TEST_DIST !== '1';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'backup-crypto-interop-large-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const sha256 = async (path: string) => {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk);
  return hash.digest('hex');
};

describe.runIf(heavy && (await pythonReady()))(
  "interop with Python's cryptography: 256 MiB",
  () => {
    const key = generateKey();

    it.runIf(heavy)(
      'a streamed 256 MiB file goes Node → Python and Python → Node intact',
      async () => {
        const src = join(dir, 'big');
        const block = randomBytes(1024 * 1024);
        const hash = createHash('sha256');
        const blocks = Array.from({ length: 256 }, (_, i) => {
          const b = Buffer.from(block);
          b.writeUInt32BE(i, 0);
          hash.update(b);
          return b;
        });
        const want = hash.digest('hex');
        await writeFile(src, blocks);
        await encryptFile(src, `${src}.node.fernet`, key);
        const pySha = await run([peerScript, 'decrypt-sha256', `${src}.node.fernet`], { key });
        expect(pySha.toString()).toBe(want);
        await pyFernet('encrypt', key, src, `${src}.py.fernet`);
        await decryptFile(`${src}.py.fernet`, `${src}.node.out`, key);
        expect(await sha256(`${src}.node.out`)).toBe(want);
      },
      120_000,
    );
  },
);
