import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', s3: 'src/s3.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  splitting: false,
  // The root entry loads the S3 driver lazily through the package's own `./s3` export, so the
  // AWS SDK is only ever loaded by apps that configure S3.
  external: ['@org/storage/s3'],
});
