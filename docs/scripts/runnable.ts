// The code blocks of the site marked runnable (```ts runnable): extracted to .runnable/, each a
// module of its own, type-checked in one tsc program against the workspace packages' source
// (the "@org/source" condition, as the repository's own typecheck resolves them), then run with
// tsx. A block proves itself by throwing when what it shows does not happen.
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const docsDir = fileURLToPath(new URL('..', import.meta.url));
export const runnableDir = join(docsDir, '.runnable');
const bin = (name: string) => join(docsDir, 'node_modules', '.bin', name);

export interface RunnableBlock {
  /** The page, relative to docs/ (`guide/cache.md`). */
  page: string;
  /** 1-based line of the opening fence. */
  line: number;
  code: string;
}

/** The pages of the site that are written here (not generated, not tests). */
export function sitePages(dir = docsDir): string[] {
  const skip = new Set([
    'node_modules',
    'api',
    'test',
    'scripts',
    '.vitepress',
    '.runnable',
    '.artifacts',
  ]);
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.isDirectory()) return skip.has(e.name) ? [] : sitePages(join(dir, e.name));
    return e.name.endsWith('.md') ? [join(dir, e.name)] : [];
  });
}

/** The blocks of a Markdown text whose info string is `ts runnable` (or `typescript runnable`). */
export function runnableBlocks(md: string, page: string): RunnableBlock[] {
  const blocks: RunnableBlock[] = [];
  const lines = md.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,})(ts|typescript)\s+(.*)$/.exec(lines[i]!);
    if (!open || !/\brunnable\b/.test(open[4]!)) continue;
    const end = lines.findIndex((l, j) => j > i && l.trim() === open[2]);
    if (end === -1) throw new Error(`${page}:${i + 1}: runnable block is never closed`);
    blocks.push({ page, line: i + 1, code: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return blocks;
}

export function allRunnableBlocks(): RunnableBlock[] {
  return sitePages().flatMap((file) =>
    runnableBlocks(readFileSync(file, 'utf8'), relative(docsDir, file).replace(/\\/g, '/')),
  );
}

const fileName = (b: RunnableBlock) =>
  `${b.page.replace(/\.md$/, '').replace(/[/\\]/g, '__')}-L${b.line}.ts`;

/** Writes the blocks to .runnable/ with a tsconfig over them; returns their files. */
export function writeBlocks(blocks: RunnableBlock[]): string[] {
  rmSync(runnableDir, { recursive: true, force: true });
  mkdirSync(runnableDir, { recursive: true });
  writeFileSync(
    join(runnableDir, 'tsconfig.json'),
    JSON.stringify({
      extends: '../../tsconfig.base.json',
      compilerOptions: { noEmit: true, noUnusedLocals: false },
      include: ['*.ts'],
    }),
  );
  return blocks.map((b) => {
    const file = join(runnableDir, fileName(b));
    writeFileSync(file, `${b.code}\nexport {};\n`);
    return file;
  });
}

/** Type-checks the extracted blocks; resolves with tsc's output, rejects when it fails. */
export async function typecheckBlocks(): Promise<void> {
  try {
    await run(bin('tsc'), ['-p', runnableDir], { cwd: docsDir, timeout: 120_000 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    throw new Error(`runnable blocks do not type-check:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

/** Runs one extracted block with tsx; rejects with its stderr when it fails. */
export async function runBlock(file: string, timeoutMs = 60_000): Promise<string> {
  try {
    const { stdout } = await run(bin('tsx'), ['--conditions=@org/source', file], {
      cwd: runnableDir,
      timeout: timeoutMs,
      env: { ...process.env, REDIS_URL: '', SENTRY_DSN: '' },
    });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${relative(docsDir, file)} failed: ${e.stderr || e.message}`);
  }
}
