import { resolve } from 'node:path';
import { s3Suite } from '@org/test-utils';

s3Suite({ dir: resolve(import.meta.dirname, '..'), name: 'Fastify' });
