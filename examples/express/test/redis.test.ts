import { resolve } from 'node:path';
import { redisSuite } from '@org/test-utils';

redisSuite({ dir: resolve(import.meta.dirname, '..'), name: 'Express' });
