import { packageProject } from '../vitest.shared.js';

// The contract test loads every package (as source, or built with ORG_TEST_DIST=1) and
// type-checks their public options, so it gets more time than a unit test.
export default packageProject(import.meta.dirname, {
  include: ['*.test.ts'],
  testTimeout: 120_000,
});
