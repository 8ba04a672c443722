#!/usr/bin/env node
// Writes each package's `typesVersions` from its `exports`, so that TypeScript's `node10`
// resolution (which ignores `exports`) finds the types of every subpath (`@org/cache/redis`).
// `--check` changes nothing and exits 1 when a package's `typesVersions` has drifted from its
// `exports` (scripts/check-packages.mjs runs it that way).
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const check = process.argv.includes('--check');
let drifted = 0;

for (const name of readdirSync(join(root, 'packages')).sort()) {
  const file = join(root, 'packages', name, 'package.json');
  if (!existsSync(file)) continue;
  const text = readFileSync(file, 'utf8');
  const pkg = JSON.parse(text);
  if (pkg.private || !pkg.exports) continue;
  const paths = {};
  for (const [key, branch] of Object.entries(pkg.exports)) {
    if (key === '.' || key.endsWith('.json')) continue;
    const types = branch?.require?.types;
    if (typeof types === 'string') paths[key.slice(2)] = [types];
  }
  const wanted = Object.keys(paths).length ? { '*': paths } : undefined;
  if (JSON.stringify(pkg.typesVersions) === JSON.stringify(wanted)) continue;
  if (check) {
    console.error(
      `${pkg.name}: typesVersions does not match exports (run scripts/sync-types-versions.mjs)`,
    );
    drifted++;
    continue;
  }
  // Keep the key order: typesVersions goes right after `types`.
  const out = {};
  for (const [k, v] of Object.entries(pkg)) {
    if (k === 'typesVersions') continue;
    out[k] = v;
    if (k === 'types' && wanted) out.typesVersions = wanted;
  }
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  console.log(`${pkg.name}: typesVersions for ${Object.keys(paths).join(', ') || 'nothing'}`);
}
if (drifted) process.exit(1);
