import { storageConformance } from '@org/storage/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localHarness } from './harness.js';

// Heavy cases (1,005 keys, 12 MiB) run once per CI run: not in the built-package passes.
const heavy = process.env.ORG_TEST_DIST !== '1';

storageConformance(
  'local',
  () => localHarness(),
  { describe, it, expect, beforeAll, afterAll },
  { heavy },
);
