import { defineConfig } from 'vitest/config';

// The docs' own run (`pnpm --filter @org/docs test`), apart from the packages' per-Node runs:
// global-setup builds the site once, with the network refused; the tests check that build.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 240_000,
    passWithNoTests: false,
  },
});
