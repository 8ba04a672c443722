import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { defineProject, type ViteUserConfig } from 'vitest/config';

const root = import.meta.dirname;

/**
 * Where `@org/<pkg>[/<sub>]` resolves in tests. By default it is the package's TypeScript
 * source (`src/index.ts`, `src/<sub>.ts`), so `pnpm test` needs no build. With
 * `ORG_TEST_DIST=1` it is the built output (`dist/index.js`, `dist/<sub>.js`): CI runs the
 * suite that way on Node 22 and 24, so what is tested there is what is published.
 */
function orgAlias(): { find: RegExp; replacement: string; customResolver?: never }[] {
  const dist = process.env.ORG_TEST_DIST === '1';
  const pkgs = join(root, 'packages');
  return [
    {
      find: /^@org\/(?!test-utils)([a-z0-9-]+)\/([a-z0-9/-]+)$/,
      replacement: dist ? `${pkgs}/$1/dist/$2.js` : `${pkgs}/$1/src/$2.ts`,
    },
    {
      find: /^@org\/(?!test-utils)([a-z0-9-]+)$/,
      replacement: dist ? `${pkgs}/$1/dist/index.js` : `${pkgs}/$1/src/index.ts`,
    },
  ];
}

/** The vitest project of one package: `packageProject(import.meta.dirname)`. */
export function packageProject(dir: string, overrides: ViteUserConfig['test'] = {}) {
  const name = basename(dir);
  if (!existsSync(resolve(dir, 'package.json'))) throw new Error(`no package at ${dir}`);
  // In CI the type tests are compiled by `pnpm typecheck` (one tsc program over every package),
  // so the test runs skip vitest's own, slower, tsc pass.
  const typecheck = {
    enabled: true,
    include: ['test/**/*.test-d.ts'],
    tsconfig: resolve(dir, 'tsconfig.json'),
    ...overrides.typecheck,
  };
  if (process.env.CI === 'true') typecheck.enabled = false;
  return defineProject({
    resolve: { alias: orgAlias() },
    test: {
      name,
      root: dir,
      include: ['test/**/*.test.ts'],
      testTimeout: 30_000,
      hookTimeout: 60_000,
      ...overrides,
      typecheck,
    },
  });
}
