import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: { index: 'src/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    // The CLI entry below writes cli.js into the same directory at the same time.
    clean: ['**/*', '!cli.js', '!cli.js.map'],
    target: 'node20',
    splitting: false,
  },
  {
    // The `backup-crypto` bin: ESM only, bundling the library; tsup keeps the shebang and
    // marks the file executable.
    entry: { cli: 'src/cli.ts' },
    format: ['esm'],
    dts: false,
    sourcemap: true,
    clean: false,
    target: 'node20',
    splitting: false,
  },
]);
