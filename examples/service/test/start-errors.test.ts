import { resolve } from 'node:path';
import { startErrorsSuite } from '@org/test-utils';

startErrorsSuite({
  dir: resolve(import.meta.dirname, '..'),
  name: 'Service',
  durationName: 'SHUTDOWN_DELAY',
  // Printed on every start without BACKUP_ENCRYPTION_KEY, before the port is tried.
  notices: /^backup-crypto: BACKUP_ENCRYPTION_KEY is not set; using a generated dev key$/,
});
