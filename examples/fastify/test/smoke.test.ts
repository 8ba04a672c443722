import { resolve } from 'node:path';
import { smokeSuite } from '@org/test-utils';

smokeSuite({
  dir: resolve(import.meta.dirname, '..'),
  name: 'Fastify',
  wrongMethodStatus: 404,
  // Fastify's logger: errors are level 50.
  failureLine: { stream: 'stdout', text: '"level":50' },
});
