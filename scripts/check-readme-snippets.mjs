#!/usr/bin/env node
// Type-checks every ```ts block of every package README, so no documented call can drift from
// the code, and runs the blocks marked ```ts run (with tsx, against the packages' source), so
// the README's runnable examples keep running. Each block becomes a module in
// packages/<pkg>/.snippets/ so that it resolves imports as a user's file would.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const readmes = readdirSync(join(root, 'packages'))
  .map((p) => join(root, 'packages', p))
  .filter((d) => existsSync(join(d, 'README.md')));
let count = 0;
let failed = 0;
let ran = 0;
for (const dir of readmes) {
  const md = readFileSync(join(dir, 'README.md'), 'utf8');
  const found = [...md.matchAll(/```(?:ts|typescript)\b([^\n]*)\n([\s\S]*?)```/g)];
  const blocks = found.map((m) => m[2]);
  const runnable = found.flatMap((m, i) => (/\brun\b/.test(m[1]) ? [i] : []));
  const out = join(dir, '.snippets');
  rmSync(out, { recursive: true, force: true });
  if (blocks.length === 0) continue;
  mkdirSync(out, { recursive: true });
  blocks.forEach((code, i) => {
    // A block with no import or export is still checked as a module of its own.
    writeFileSync(join(out, `snippet-${i + 1}.ts`), `${code}\nexport {};\n`);
  });
  writeFileSync(
    join(out, 'tsconfig.json'),
    JSON.stringify({
      extends: '../../../tsconfig.base.json',
      compilerOptions: { noUnusedLocals: false, types: ['node'] },
      include: ['*.ts'],
    }),
  );
  count += blocks.length;
  try {
    execFileSync(join(root, 'node_modules', '.bin', 'tsc'), ['-p', out], { stdio: 'inherit' });
  } catch {
    console.error(`README snippets of ${dir} do not type-check (see above)`);
    failed++;
    continue;
  }
  for (const i of runnable) {
    const file = join(out, `snippet-${i + 1}.ts`);
    try {
      execFileSync(join(root, 'node_modules', '.bin', 'tsx'), ['--conditions=@org/source', file], {
        cwd: dir,
        stdio: ['ignore', 'ignore', 'inherit'],
        timeout: 60_000,
      });
      ran++;
    } catch (err) {
      console.error(`README example ${i + 1} of ${dir} failed to run: ${err.message}`);
      failed++;
    }
  }
}
if (failed) process.exit(1);
console.log(`${count} README snippets type-check; ${ran} runnable examples ran`);
