import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { defineConfig, type Options } from 'tsup';

interface Manifest {
  exports?: Record<string, unknown>;
  bin?: string | Record<string, string>;
}

/**
 * The build of the package in the current directory, derived from its package.json so that
 * `exports` and the build's entries cannot drift apart: export `./x` is built from `src/x.ts`
 * (`.` from `src/index.ts`) to ESM + CJS with `.d.ts`/`.d.cts`; each `bin` `./dist/x.js` is built
 * from `src/x.ts` (which starts with a shebang) as ESM with no types, and so is the `dist/x.js` a
 * `bin` shim `./bin/<command>.js` imports. `library` options extend the first build.
 */
/**
 * The entry a `bin` runs: `x` for `./dist/x.js`; for a shim in `bin/` (a committed file, so that a
 * workspace links the command at install, before any build), the `dist/x.js` it imports.
 */
function binEntry(path: string): string {
  if (!/^(\.\/)?bin\//.test(path)) return basename(path, '.js');
  const target = /^import '\.\.\/dist\/([\w-]+)\.js';$/m.exec(readFileSync(path, 'utf8'))?.[1];
  if (target === undefined) throw new Error(`${path}: a bin shim imports '../dist/<entry>.js'`);
  return target;
}

export function packageBuild(library: Options = {}) {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as Manifest;
  const entry: Record<string, string> = {};
  for (const key of Object.keys(pkg.exports ?? {})) {
    if (key.endsWith('.json')) continue;
    const name = key === '.' ? 'index' : key.slice(2);
    entry[name] = `src/${name}.ts`;
  }
  const bins = Object.values(typeof pkg.bin === 'string' ? { bin: pkg.bin } : (pkg.bin ?? {})).map(
    binEntry,
  );
  const common: Options = {
    format: ['esm', 'cjs'],
    sourcemap: true,
    target: 'node20',
    splitting: false,
  };
  const configs: Options[] = [
    {
      ...common,
      entry,
      dts: true,
      // The bin build writes into dist/ at the same time: the library build must not wipe it.
      clean:
        bins.length === 0 ? true : ['**/*', ...bins.flatMap((b) => [`!${b}.js`, `!${b}.js.map`])],
      ...library,
    },
  ];
  for (const bin of bins) {
    configs.push({
      ...common,
      entry: { [bin]: `src/${bin}.ts` },
      format: ['esm'],
      dts: false,
      // The source starts with its own `#!/usr/bin/env node`, which the build keeps.
      clean: false,
    });
  }
  return defineConfig(configs);
}
