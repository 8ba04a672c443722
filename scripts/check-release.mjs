#!/usr/bin/env node
// Proves what a release would do, without publishing:
//   1. `changeset status`: the pending changesets parse and name real packages;
//   2. `changeset version` in a throwaway clone: every package a changeset names gets a new
//      version and a CHANGELOG.md entry, and no `workspace:` range is left unresolved where
//      the version step must rewrite it;
//   3. `pnpm publish -r --dry-run`: every publishable package packs, with LICENSE, README,
//      package.json and dist/ and nothing else.
// Needs the packages built (`pnpm build`).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const changeset = join(root, 'node_modules/.bin/changeset');
const run = (cmd, args, cwd = root) =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
let failed = 0;
const fail = (msg) => {
  console.error(`FAIL ${msg}`);
  failed++;
};

// 1.
console.log(run(changeset, ['status']).trim());

// 2. Which packages the pending changesets name, then version them in a clone.
const pending = new Map();
for (const f of readdirSync(join(root, '.changeset'))) {
  if (!f.endsWith('.md') || f === 'README.md') continue;
  const front = /^---\n([\s\S]*?)\n---/.exec(readFileSync(join(root, '.changeset', f), 'utf8'));
  if (!front) {
    fail(`.changeset/${f} has no front matter`);
    continue;
  }
  for (const line of front[1].split('\n')) {
    const m = /^['"]?(@org\/[a-z0-9-]+)['"]?:\s*(major|minor|patch)\s*$/.exec(line.trim());
    if (m) pending.set(m[1], f);
    else if (line.trim()) fail(`.changeset/${f}: cannot read "${line}"`);
  }
}
const clone = mkdtempSync(join(tmpdir(), 'org-release-'));
try {
  run('git', ['clone', '-q', '--no-hardlinks', root, clone]);
  const before = manifests(clone);
  run(changeset, ['version'], clone);
  const after = manifests(clone);
  for (const [name, file] of pending) {
    const b = before.get(name);
    const a = after.get(name);
    if (!a || !b) {
      fail(`${file} names ${name}, which is not a package here`);
      continue;
    }
    const changelog = join(a.dir, 'CHANGELOG.md');
    if (a.version === b.version) fail(`${name} kept version ${a.version}`);
    else if (!existsSync(changelog)) fail(`${name} got no CHANGELOG.md`);
    else console.log(`ok   ${name} ${b.version} → ${a.version}, CHANGELOG.md written`);
  }
  if (readdirSync(join(clone, '.changeset')).some((f) => f.endsWith('.md') && f !== 'README.md')) {
    fail('changeset version left changesets behind');
  }
} finally {
  rmSync(clone, { recursive: true, force: true });
}

// 3.
const pub = spawnSync(
  'npx',
  ['-y', 'pnpm@10.34.9', 'publish', '-r', '--dry-run', '--no-git-checks'],
  {
    cwd: root,
    // The tarball listings are npm notices: CI's quieter log level would hide them.
    env: { ...process.env, npm_config_loglevel: 'notice' },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  },
);
if (pub.status !== 0) fail(`pnpm publish -r --dry-run exited ${pub.status}:\n${pub.stderr}`);
// npm prints the tarball listings on stderr with --dry-run; pnpm passes them through.
const text = `${pub.stdout}${pub.stderr}`;
// backup-crypto ships its Python decryptor of the chunked format beside dist/; the CLIs ship the
// shims in bin/ that run what dist/ holds.
const allowed =
  /^(LICENSE|README\.md|package\.json|bin\/[\w-]+\.js|dist\/.+|CHANGELOG\.md|python\/[\w-]+\.py)$/;
let tarballs = 0;
for (const block of text.split('📦').slice(1)) {
  tarballs++;
  const name = /^\s*(\S+)/.exec(block)?.[1];
  const files = [...block.matchAll(/npm notice [\d.]+k?M?B (\S+)/g)].map((m) => m[1]);
  for (const must of ['LICENSE', 'README.md', 'package.json']) {
    if (!files.includes(must)) fail(`${name}: the tarball has no ${must}`);
  }
  const stray = files.filter((f) => !allowed.test(f));
  if (stray.length) fail(`${name}: the tarball holds ${stray.join(', ')}`);
  console.log(`ok   ${name}: ${files.length} files`);
}
if (tarballs === 0) fail('pnpm publish --dry-run listed no tarball');
if (failed) process.exit(1);
console.log('\nthe release dry run holds');

function manifests(dir) {
  const map = new Map();
  for (const d of readdirSync(join(dir, 'packages'))) {
    const f = join(dir, 'packages', d, 'package.json');
    if (!existsSync(f)) continue;
    const m = JSON.parse(readFileSync(f, 'utf8'));
    map.set(m.name, { version: m.version, dir: join(dir, 'packages', d) });
  }
  return map;
}
