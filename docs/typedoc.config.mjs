// The API reference, generated from the TypeScript sources into api/ (gitignored) before each
// `vitepress build`, so it cannot drift from the code. The entry points are every package's
// public subpaths, read from its package.json `exports` (the "@org/source" condition), so a new
// subpath is documented without touching this file.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const docs = fileURLToPath(new URL('.', import.meta.url));
const packages = join(docs, '..', 'packages');

/** `{ file, name }` for each public subpath of each published package. */
export function entryPoints() {
  const out = [];
  for (const dir of readdirSync(packages).sort()) {
    const manifest = join(packages, dir, 'package.json');
    if (!existsSync(manifest)) continue;
    const pkg = JSON.parse(readFileSync(manifest, 'utf8'));
    if (pkg.private || !pkg.exports) continue;
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      const source = typeof target === 'object' ? target['@org/source'] : undefined;
      if (typeof source !== 'string' || !source.endsWith('.ts')) continue;
      const file = join(packages, dir, source);
      if (!existsSync(file)) continue;
      out.push({ file, name: subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}` });
    }
  }
  return out;
}

/** @type {Partial<import('typedoc').TypeDocOptions & import('typedoc-plugin-markdown').PluginOptions>} */
export default {
  entryPoints: entryPoints().map((e) => relative(docs, e.file)),
  entryPointStrategy: 'resolve',
  tsconfig: './tsconfig.api.json',
  plugin: ['typedoc-plugin-markdown', './scripts/typedoc-module-names.mjs'],
  out: './api',
  cleanOutputDir: true,
  readme: 'none',
  name: 'API reference',
  outputFileStrategy: 'modules',
  entryFileName: 'index',
  hidePageHeader: true,
  excludeScopesInPaths: true,
  hideBreadcrumbs: true,
  useCodeBlocks: true,
  // Named anchors of typedoc's own, so its links into a page do not depend on how VitePress
  // numbers headings that share a name (a type and a const `CacheErrorCode`).
  useHTMLAnchors: true,
  excludePrivate: true,
  excludeInternal: true,
  excludeExternals: true,
  disableSources: true,
  sort: ['kind', 'alphabetical'],
  // The reference documents what the sources declare; type errors are the typecheck's job (and a
  // package mid-change must not take the site down).
  skipErrorChecking: true,
  treatWarningsAsErrors: false,
  logLevel: 'Warn',
  validation: { notExported: false, invalidLink: false, notDocumented: false },
};
