#!/usr/bin/env node
// Tries the packages as a new user would: packs every publishable package with `pnpm pack`,
// installs the tarballs with npm into a fresh project outside the workspace, then
//   1. type-checks every example of each README and a file of common setups under the module
//      resolutions users have (nodenext, node16, bundler, and node10 for the first examples),
//      all with `strict` and `exactOptionalPropertyTypes`, against @types/node 20 and the latest
//      @types/node;
//   2. runs each README's first example, and every example marked ```ts run, as its README says
//      (`npx tsx file.mts`), on what the tarballs hold rather than on the packages' source.
// Needs the packages built (`pnpm build`). Exits 1 on the first kind of failure, after listing
// every failure of that kind. `--keep` leaves the project folder for a look.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const keep = process.argv.includes('--keep');
const work = mkdtempSync(join(tmpdir(), 'org-consumer-'));
const packs = join(work, 'tarballs');
const app = join(work, 'app');
mkdirSync(packs);
mkdirSync(join(app, 'src', 'more'), { recursive: true });
const run = (cmd, args, opts = {}) =>
  execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', ...opts });
const log = (s) => console.log(s);

// 1. Pack.
const pkgs = readdirSync(join(root, 'packages'))
  .map((d) => ({ dir: join(root, 'packages', d), name: d }))
  .filter(({ dir }) => {
    try {
      return !JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).private;
    } catch {
      return false;
    }
  });
for (const { dir } of pkgs) {
  run('npx', ['-y', 'pnpm@10.34.9', 'pack', '--pack-destination', packs], { cwd: dir });
}
const tarballs = readdirSync(packs).map((f) => join(packs, f));
log(`packed ${tarballs.length} packages into ${packs}`);

// 2. A fresh project: the tarballs, their optional peers, TypeScript, tsx, two @types/node.
const tsVersion = JSON.parse(
  readFileSync(join(root, 'node_modules/typescript/package.json'), 'utf8'),
).version;
writeFileSync(
  join(app, 'package.json'),
  JSON.stringify({ name: 'org-consumer', private: true, type: 'module' }, null, 2),
);
const npm = (args, cwd = app) =>
  run('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd });
npm([
  'install',
  ...tarballs,
  'ioredis@^5',
  'pg@^8',
  '@aws-sdk/client-s3@^3',
  '@aws-sdk/s3-request-presigner@^3',
  '@aws-sdk/client-secrets-manager@^3',
  `typescript@${tsVersion}`,
  'tsx@^4',
  '@types/node@latest',
  '@types/pg@^8',
  // What README examples beside the first import: the framework adapters, the conformance suites.
  'express@^5',
  '@types/express@^5',
  'fastify@^5',
  `vitest@${JSON.parse(readFileSync(join(root, 'node_modules/vitest/package.json'), 'utf8')).version}`,
]);
const types20 = join(work, 'types-node-20');
mkdirSync(types20);
writeFileSync(join(types20, 'package.json'), '{"private":true}');
npm(['install', '@types/node@^20.19.0'], types20);
const typesLatest = JSON.parse(
  readFileSync(join(app, 'node_modules/@types/node/package.json'), 'utf8'),
).version;
log(`installed in ${app} (TypeScript ${tsVersion}, @types/node ${typesLatest} and 20)`);

// 3. The README examples, each in a file as a user would save it.
const examples = [];
const failures = [];
for (const { dir, name } of pkgs) {
  const readme = join(dir, 'README.md');
  const md = existsSync(readme) ? readFileSync(readme, 'utf8') : '';
  const blocks = [...md.matchAll(/```(ts|typescript|js|javascript)\b([^\n]*)\n([\s\S]*?)```/g)];
  if (blocks.length === 0) {
    log(`FAIL ${name}: it has no README with a code example`);
    failures.push(`${name}: no README example`);
    continue;
  }
  blocks.forEach(([, lang, info, code], i) => {
    const js = lang.startsWith('j');
    // The first example of each README in src/, the others in src/more/ (see the node10 config).
    const file = join(
      app,
      'src',
      ...(i === 0 ? [] : ['more']),
      `${name}-readme-${i + 1}.${js ? 'mjs' : 'mts'}`,
    );
    writeFileSync(file, code);
    // Every example is type-checked; the first, and those marked `run`, are run too.
    if (i === 0 || /\brun\b/.test(info)) examples.push({ name, n: i + 1, file, js });
  });
}
// Setups users write that must type-check: optional values straight from the environment.
writeFileSync(
  join(app, 'src', 'setups.mts'),
  readFileSync(join(root, 'scripts/consumer-setups.mts')),
);

const resolutions = {
  nodenext: { module: 'nodenext', moduleResolution: 'nodenext' },
  node16: { module: 'node16', moduleResolution: 'node16' },
  bundler: { module: 'esnext', moduleResolution: 'bundler' },
  node10: { module: 'esnext', moduleResolution: 'node10' },
};
for (const [res, mod] of Object.entries(resolutions)) {
  for (const [label, typeRoots] of [
    [`@types/node ${typesLatest}`, ['./node_modules/@types']],
    ['@types/node 20', [join(types20, 'node_modules/@types')]],
  ]) {
    const config = join(app, `tsconfig.${res}.${label.includes(' 20') ? '20' : 'latest'}.json`);
    writeFileSync(
      config,
      JSON.stringify({
        compilerOptions: {
          ...mod,
          target: 'es2022',
          lib: ['es2023'],
          strict: true,
          exactOptionalPropertyTypes: true,
          noEmit: true,
          allowJs: true,
          checkJs: false,
          skipLibCheck: false,
          typeRoots,
          types: ['node'],
        },
        // node10 (with no esModuleInterop) cannot type the default imports of CommonJS packages
        // (`import express from 'express'`) nor vitest's typings: the examples beyond the first,
        // which use them, are checked under the other resolutions.
        include: res === 'node10' ? ['src/*.mts', 'src/*.mjs'] : ['src'],
      }),
    );
    const r = spawnSync(join(app, 'node_modules/.bin/tsc'), ['-p', config], {
      cwd: app,
      encoding: 'utf8',
    });
    const ok = r.status === 0;
    log(`${ok ? 'ok  ' : 'FAIL'} types: ${res}, ${label}`);
    if (!ok) failures.push(`types ${res} ${label}:\n${r.stdout}${r.stderr}`);
  }
}
for (const f of failures) log(`\n${f}`);
if (failures.length) finish(1);

// 4. Run the first example of each README, and every one marked `run`, as its README says.
for (const ex of examples) {
  const [cmd, args] = ex.js ? ['node', [ex.file]] : [join(app, 'node_modules/.bin/tsx'), [ex.file]];
  const r = spawnSync(cmd, args, { cwd: app, encoding: 'utf8', timeout: 60_000 });
  const ok = r.status === 0;
  log(`${ok ? 'ok  ' : 'FAIL'} run: ${ex.name} README's example ${ex.n}`);
  if (!ok)
    failures.push(
      `run ${ex.name} example ${ex.n} (exit ${r.status}, ${r.signal ?? 'no signal'}):\n${r.stdout}${r.stderr}`,
    );
}
for (const f of failures) log(`\n${f}`);
finish(failures.length ? 1 : 0);

function finish(code) {
  if (keep) log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
  process.exit(code);
}
