import { resolve } from 'node:path';
import { smokeSuite } from '@org/test-utils';

smokeSuite({
  dir: resolve(import.meta.dirname, '..'),
  name: 'Express',
  wrongMethodStatus: 405,
  // What the app writes to stderr when a request failed on the server.
  failureLine: { stream: 'stderr', text: ' failed:' },
});
