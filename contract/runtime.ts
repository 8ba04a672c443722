import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type Mod = Record<string, (...args: never[]) => unknown>;
type Ctor = new (...args: unknown[]) => Record<string, (...args: unknown[]) => unknown>;

/** A call with a bad option, and the option name its message must carry. */
interface BadOption {
  what: string;
  names: string;
  run(mod: Mod): unknown;
}

/** One object the contract test makes at run time, from a package's zero-config factory. */
export interface RuntimeCase {
  name: string;
  module: string;
  prefix: string;
  /** Makes the object whose `close()` is checked; none for objects that hold nothing. */
  make?: (mod: Mod) => unknown;
  /** An event name: `on(event, …)` must return an unsubscribe function. */
  events?: string;
  badOptions: BadOption[];
}

const call = (mod: Mod, name: string, ...args: unknown[]) =>
  (mod[name] as (...a: unknown[]) => unknown)(...args);
const tmp = () => mkdtempSync(join(tmpdir(), 'org-contract-'));
const KEY = Buffer.alloc(32, 7).toString('base64url');

export const RUNTIME: readonly RuntimeCase[] = [
  {
    name: 'resilience: createBreaker',
    module: '@org/resilience',
    prefix: 'RESILIENCE',
    make: (m) => call(m, 'createBreaker', async () => 1, { name: 'contract' }),
    events: 'open',
    badOptions: [
      {
        what: 'timeout that is no duration',
        names: '`timeout`',
        run(m) {
          return call(m, 'createBreaker', async () => 1, { timeout: 'soon' });
        },
      },
    ],
  },
  {
    name: 'resilience: createRegistry',
    module: '@org/resilience',
    prefix: 'RESILIENCE',
    make: (m) => call(m, 'createRegistry'),
    badOptions: [],
  },
  {
    name: 'cache: createCache',
    module: '@org/cache',
    prefix: 'CACHE',
    make: (m) => call(m, 'createCache'),
    events: 'hit',
    badOptions: [
      {
        what: 'ttl in a unit nobody knows',
        names: '`ttl`',
        run(m) {
          return call(m, 'createCache', { ttl: '5 fortnights' });
        },
      },
    ],
  },
  {
    name: 'storage: createStorage',
    module: '@org/storage',
    prefix: 'STORAGE',
    make: (m) => call(m, 'createStorage', { local: { root: tmp() } }),
    events: 'operation',
    badOptions: [
      {
        what: 'timeout that is no duration',
        names: '`timeout`',
        run(m) {
          return call(m, 'createStorage', { timeout: 'soon', local: { root: tmp() } });
        },
      },
    ],
  },
  {
    name: 'health: createHealth',
    module: '@org/health',
    prefix: 'HEALTH',
    make: (m) => call(m, 'createHealth', { checks: { ok: () => undefined } }),
    events: 'report',
    badOptions: [
      {
        what: 'timeout that is no duration',
        names: '`timeout`',
        run(m) {
          return call(m, 'createHealth', { checks: { ok: () => undefined }, timeout: 'soon' });
        },
      },
    ],
  },
  {
    name: 'key-rotation: createKeyRing',
    module: '@org/key-rotation',
    prefix: 'KEY_ROTATION',
    make: (m) => call(m, 'createKeyRing'),
    events: 'rotate',
    badOptions: [
      {
        what: 'gracePeriod that is no duration',
        names: '`gracePeriod`',
        run(m) {
          return call(m, 'createKeyRing', { gracePeriod: 'soon' });
        },
      },
    ],
  },
  {
    name: 'secrets: createSecrets',
    module: '@org/secrets',
    prefix: 'SECRETS',
    make: (m) => call(m, 'createSecrets', { provider: call(m, 'envProvider', { env: {} }) }),
    events: 'error',
    badOptions: [
      {
        what: 'ttl that is no duration',
        names: '`ttl`',
        run(m) {
          return call(m, 'createSecrets', {
            provider: call(m, 'envProvider', { env: {} }),
            ttl: 'soon',
          });
        },
      },
    ],
  },
  {
    name: 'rate-limit: createRateLimiter',
    module: '@org/rate-limit',
    prefix: 'RATE_LIMIT',
    make: (m) => call(m, 'createRateLimiter', { tiers: { read: { limit: 120, window: '1m' } } }),
    events: 'limited',
    badOptions: [
      {
        what: 'window that is no duration',
        names: 'window',
        run(m) {
          return call(m, 'createRateLimiter', { tiers: { read: { limit: 1, window: 'soon' } } });
        },
      },
    ],
  },
  {
    name: 'alerts: createAlerts',
    module: '@org/alerts',
    prefix: 'ALERTS',
    make: (m) => call(m, 'createAlerts', { log: () => {} }),
    events: 'dropped',
    badOptions: [
      {
        what: 'timeout that is no duration',
        names: '`timeout`',
        run(m) {
          return call(m, 'createAlerts', { timeout: 'soon' });
        },
      },
    ],
  },
  {
    name: 'backup-crypto: Fernet',
    module: '@org/backup-crypto',
    prefix: 'FERNET',
    badOptions: [
      {
        what: 'ttl that is no duration',
        names: '`ttl`',
        run(m) {
          const Fernet = m['Fernet'] as unknown as Ctor;
          const f = new Fernet(KEY);
          return f['decrypt']!(f['encrypt']!('x'), { ttl: 'soon' });
        },
      },
    ],
  },
];
