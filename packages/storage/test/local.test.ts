import { conformance } from './conformance.js';
import { localHarness } from './harness.js';

conformance('local', () => localHarness());
