import { existsSync } from 'node:fs';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { explain, redactUrl, startTool } from '../src/child.js';
import { dbTarget } from '../src/pg.js';

/** A stand-in for pg_dump that prints its arguments, and its password file's mode and content. */
async function fakeTool(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'backup-tool-'));
  const path = join(dir, 'tool');
  await writeFile(
    path,
    `#!/usr/bin/env node
const args = process.argv.slice(2);
const url = new URL(args.at(-1).replace(/^--dbname=/, ''));
const file = url.searchParams.get('passfile');
const fs = require('node:fs');
console.log(JSON.stringify({ args, file, mode: file && (fs.statSync(file).mode & 0o777).toString(8), content: file && fs.readFileSync(file, 'utf8') }));
`,
  );
  await chmod(path, 0o755);
  return path;
}

async function run(url: string) {
  const tool = startTool(await fakeTool(), ['--format=custom'], dbTarget(url, 'url'));
  let out = '';
  tool.stdout.on('data', (c: Buffer) => {
    out += c;
  });
  expect(await tool.exited).toBe(0);
  return JSON.parse(out) as {
    args: string[];
    file: string | null;
    mode: string | null;
    content: string | null;
  };
}

describe('startTool', () => {
  it('hands the password over in a 0600 password file, never in the arguments, and removes it after', async () => {
    const seen = await run('postgres://app:s3cr:et%5Cx@127.0.0.1:5432/app');
    expect(seen.args.join(' ')).not.toContain('s3cr');
    expect(seen.args).toContain('--no-password');
    expect(seen.mode).toBe('600');
    expect(seen.content).toBe('*:*:*:*:s3cr\\:et\\\\x\n');
    await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(seen.file!)).toBe(false);
  });

  it('uses no password file without a password', async () => {
    const seen = await run('postgres://app@127.0.0.1:5432/app');
    expect(seen.file).toBeNull();
    expect(seen.args.at(-1)).toBe('--dbname=postgres://app@127.0.0.1:5432/app');
  });

  it('blanks passwords of connection strings in messages', () => {
    expect(redactUrl('could not connect to postgres://u:hunter2@db/app; password=x1 y')).toBe(
      'could not connect to postgres://u:***@db/app; password=*** y',
    );
    const err = new Error('put failed', { cause: new Error('postgres://u:pw@h/db refused') });
    expect(explain(err)).toBe('put failed: postgres://u:***@h/db refused');
  });
});
