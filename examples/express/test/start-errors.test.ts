import { resolve } from 'node:path';
import { startErrorsSuite } from '@org/test-utils';

startErrorsSuite({ dir: resolve(import.meta.dirname, '..'), name: 'Express' });
