import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const pkg = fileURLToPath(new URL('../../', import.meta.url));
const dist = process.env.ORG_TEST_DIST === '1';

/** tsx's loader by absolute URL, so the CLI can run from any working directory. */
function tsxLoader(): string {
  const require = createRequire(`${pkg}package.json`);
  const manifest = require.resolve('tsx/package.json');
  return pathToFileURL(join(dirname(manifest), 'dist/loader.mjs')).href;
}

/** The CLI's command line: the built bin under ORG_TEST_DIST=1, else the source through tsx. */
export const cliCommand: string[] = dist
  ? [process.execPath, `${pkg}dist/cli.js`]
  : [process.execPath, '--import', tsxLoader(), `${pkg}src/cli.ts`];

export interface CliResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs `backup-crypto ...args` in `cwd` with `env` added, feeding `input` to stdin. */
export function cli(
  args: string[],
  options: { cwd?: string; env?: Record<string, string | undefined>; input?: Buffer | string } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env = {
      ...process.env,
      BACKUP_ENCRYPTION_KEY: '',
      BACKUP_ENCRYPTION_OLD_KEYS: '',
      ...options.env,
    };
    const child = spawn(cliCommand[0]!, [...cliCommand.slice(1), ...args], {
      cwd: options.cwd ?? pkg,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: 30_000,
    });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: err }));
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}
