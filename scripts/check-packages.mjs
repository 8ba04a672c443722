#!/usr/bin/env node
// Lints every publishable package as npm would ship it: publint on the package folder and
// `attw --pack` on the tarball under every module resolution (node10, node16 CJS and ESM,
// bundler), so ESM/CJS types and the exports map are checked, not assumed.
// Also fails when an `exports` target has no built file (entries in tsup.config.ts drifted).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const bin = (name) => join(root, 'node_modules', '.bin', name);
let failed = 0;

function targets(exp, out = []) {
  if (typeof exp === 'string') out.push(exp);
  else if (exp && typeof exp === 'object') for (const v of Object.values(exp)) targets(v, out);
  return out;
}

// node10 resolution ignores `exports`: typesVersions must map every subpath to its types.
try {
  execFileSync(process.execPath, [join(root, 'scripts/sync-types-versions.mjs'), '--check'], {
    stdio: 'inherit',
  });
} catch {
  failed++;
}

for (const name of readdirSync(join(root, 'packages')).sort()) {
  const dir = join(root, 'packages', name);
  const pkgFile = join(dir, 'package.json');
  if (!existsSync(pkgFile)) continue;
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8'));
  if (pkg.private) continue;
  console.log(`\n== ${pkg.name}`);
  const missing = targets(pkg.exports).filter((t) => !existsSync(join(dir, t)));
  if (missing.length) {
    console.error(`exports point at files the build did not make: ${missing.join(', ')}`);
    failed++;
  }
  for (const [cmd, args] of [
    [bin('publint'), ['--strict', '--pack', 'npm']],
    [bin('attw'), ['--pack', '.', '--format', 'table-flipped']],
  ]) {
    try {
      execFileSync(cmd, args, { cwd: dir, stdio: 'inherit' });
    } catch {
      failed++;
    }
  }
}
if (failed) {
  console.error(`\n${failed} package check(s) failed`);
  process.exit(1);
}
console.log('\nall packages pass publint, attw and the exports check');
