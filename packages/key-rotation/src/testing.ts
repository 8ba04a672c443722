/**
 * Conformance suites for the package's extension points: a store of your own proves itself with
 * the same tests the memory, file and Redis stores pass. They take vitest's
 * `{ describe, it, expect }`; this entry imports no test runner.
 */
export type { Matchers, TestApi } from './testing/api.js';
export type {
  KeyStoreBackend,
  KeyStoreConformanceOptions,
} from './testing/key-store-suite.js';
export { keyStoreConformance } from './testing/key-store-suite.js';
export type {
  RefreshTokenStoreBackend,
  RefreshTokenStoreConformanceOptions,
} from './testing/refresh-token-store-suite.js';
export { refreshTokenStoreConformance } from './testing/refresh-token-store-suite.js';
