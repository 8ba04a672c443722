import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: ['packages/*', 'examples/*', 'contract'],
    reporters: process.env.CI === 'true' ? ['default'] : ['default'],
    passWithNoTests: false,
  },
});
