import type { Feature } from '../app.js';
import { alertsFeature } from './alerts.js';
import { backup } from './backup.js';
import { backupCrypto } from './backup-crypto.js';
import { cache } from './cache.js';
import { health } from './health.js';
import { keyRotation } from './key-rotation.js';
import { rateLimit } from './rate-limit.js';
import { secrets } from './secrets.js';
import { status } from './status.js';
import { storage } from './storage.js';
import { upstream } from './upstream.js';

/** Every feature of the example, one per @org package; each file says what it shows. */
// Health comes last but for the status page, which shows it: its full report checks what the others registered with `app.dependency`.
// Secrets come first: the features after it read their keys through it. Alerts come next: the
// breaker, rate-limit and health features attach their hooks to it.
export const features: Feature[] = [
  secrets,
  alertsFeature,
  upstream,
  keyRotation,
  cache,
  backupCrypto,
  storage,
  rateLimit,
  backup, // after rate-limit, whose guard runs first; before health, which reads its check
  health,
  status,
];
