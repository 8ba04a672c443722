import { resolve } from 'node:path';
import { packageProject } from '../../vitest.shared.js';

// Type tests need src and test only; leaving out bench keeps the anchors' typings out of the run.
export default packageProject(import.meta.dirname, {
  typecheck: {
    enabled: true,
    include: ['test/**/*.test-d.ts'],
    tsconfig: resolve(import.meta.dirname, 'tsconfig.typecheck.json'),
  },
});
