// Every ```ts runnable block of the site type-checks against the workspace packages and runs.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  allRunnableBlocks,
  runBlock,
  runnableBlocks,
  typecheckBlocks,
  writeBlocks,
} from '../scripts/runnable.js';

const blocks = allRunnableBlocks();
let files: string[] = [];

describe('runnable code blocks', () => {
  beforeAll(() => {
    files = writeBlocks(blocks);
  });

  it('are found on the pages that promise them', () => {
    const pages = new Set(blocks.map((b) => b.page));
    expect(pages).toContain('getting-started.md');
    expect(pages).toContain('operations/rotating-keys.md');
    expect(blocks.length).toBeGreaterThanOrEqual(10);
  });

  it('are extracted only when marked, and a block left open is an error', () => {
    const md = '```ts\nnot me\n```\n\n```ts runnable\nconst a = 1;\n```\n';
    expect(runnableBlocks(md, 'x.md')).toEqual([{ page: 'x.md', line: 5, code: 'const a = 1;' }]);
    expect(() => runnableBlocks('```ts runnable\nopen', 'y.md')).toThrow(/never closed/);
  });

  it('fail when a block throws (so a block that stops doing what it shows fails the run)', async () => {
    const [file] = writeBlocks([
      { page: 'probe.md', line: 1, code: "throw new Error('shown call failed');" },
    ]);
    await expect(runBlock(file!)).rejects.toThrow(/shown call failed/);
    files = writeBlocks(blocks);
  });

  it('type-check in one program against the packages', async () => {
    await typecheckBlocks();
  });

  it.concurrent.each(blocks.map((b, i) => [`${b.page}:${b.line}`, i] as const))(
    'run: %s',
    async (_name, i) => {
      await expect(runBlock(files[i]!)).resolves.toBeTypeOf('string');
    },
  );
});
