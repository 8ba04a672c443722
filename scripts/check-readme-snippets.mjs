#!/usr/bin/env node
// Type-checks every ```ts block of every package README, so no documented call can drift from
// the code, and runs the blocks marked ```ts run (with tsx, against the packages' source), so
// the README's runnable examples keep running. Each block becomes a module in
// packages/<pkg>/.snippets/ so that it resolves imports as a user's file would; all of them are
// checked in one tsc program (.snippets/tsconfig.json at the root), which is much faster than
// one per package.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const bin = (name) => join(root, 'node_modules', '.bin', name);
const readmes = readdirSync(join(root, 'packages'))
  .map((p) => join(root, 'packages', p))
  .filter((d) => existsSync(join(d, 'README.md')));
const runnable = [];
const includes = [];
let count = 0;
for (const dir of readmes) {
  const md = readFileSync(join(dir, 'README.md'), 'utf8');
  const found = [...md.matchAll(/```(?:ts|typescript)\b([^\n]*)\n([\s\S]*?)```/g)];
  const out = join(dir, '.snippets');
  rmSync(out, { recursive: true, force: true });
  if (found.length === 0) continue;
  mkdirSync(out, { recursive: true });
  found.forEach((m, i) => {
    const file = join(out, `snippet-${i + 1}.ts`);
    // A block with no import or export is still checked as a module of its own.
    writeFileSync(file, `${m[2]}\nexport {};\n`);
    if (/\brun\b/.test(m[1])) runnable.push({ dir, file, n: i + 1 });
  });
  includes.push(`${relative(join(root, '.snippets'), out)}/*.ts`);
  count += found.length;
}

const program = join(root, '.snippets');
mkdirSync(program, { recursive: true });
writeFileSync(
  join(program, 'tsconfig.json'),
  JSON.stringify({
    extends: '../tsconfig.base.json',
    compilerOptions: { noUnusedLocals: false },
    include: includes,
  }),
);
try {
  execFileSync(bin('tsc'), ['-p', program], { stdio: 'inherit' });
} catch {
  console.error('README snippets do not type-check (see above)');
  process.exit(1);
}

let failed = 0;
for (const { dir, file, n } of runnable) {
  try {
    execFileSync(bin('tsx'), ['--conditions=@org/source', file], {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'inherit'],
      timeout: 60_000,
    });
  } catch (err) {
    console.error(`README example ${n} of ${relative(root, dir)} failed to run: ${err.message}`);
    failed++;
  }
}
if (failed) process.exit(1);
console.log(`${count} README snippets type-check; ${runnable.length} runnable examples ran`);
