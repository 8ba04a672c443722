import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { programAvailable } from '@org/test-utils';

/** The Python peer script (see its docstring for commands). */
export const peerScript = fileURLToPath(new URL('./fernet_peer.py', import.meta.url));
const peer = peerScript;
export const chunkedTool = fileURLToPath(
  new URL('../../python/fernet_chunked.py', import.meta.url),
);

/** Whether python3 with `cryptography` is here (in CI its absence fails the run). */
export const pythonReady = () =>
  programAvailable("python3 with the 'cryptography' package", () =>
    run(['-c', 'import cryptography.fernet']).then(() => true),
  );

/** Runs python3 with `args`, the key in the environment and `input` on stdin; resolves stdout. */
export function run(
  args: string[],
  options: { key?: string; input?: Buffer | string; env?: Record<string, string> } = {},
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'python3',
      args,
      {
        encoding: 'buffer',
        maxBuffer: 64 * 1024 * 1024,
        timeout: 120_000,
        env: { ...process.env, BACKUP_ENCRYPTION_KEY: options.key ?? '', ...options.env },
      },
      (err, stdout, stderr) => {
        if (err) reject(Object.assign(err, { stderr: stderr.toString() }));
        else resolve(stdout);
      },
    );
    child.stdin?.end(options.input ?? '');
  });
}

/** Python's `Fernet(key).encrypt` / `.decrypt` of a file or stdin (`-`). */
export const pyFernet = (
  cmd: 'encrypt' | 'decrypt',
  key: string,
  src: string,
  dst: string,
  input?: Buffer | string,
) => run([peer, cmd, src, dst], { key, input });

/** Python's `Fernet(key).encrypt`/`.decrypt` over many inputs in one process; `null` = refused. */
export async function pyBatch(
  op: 'encrypt' | 'decrypt',
  key: string,
  items: Buffer[],
): Promise<(Buffer | null)[]> {
  const input = JSON.stringify(items.map((b) => b.toString('base64')));
  const out = await run([peer, `batch-${op}`], { key, input });
  return (JSON.parse(out.toString()) as (string | null)[]).map((s) =>
    s === null ? null : Buffer.from(s, 'base64'),
  );
}
