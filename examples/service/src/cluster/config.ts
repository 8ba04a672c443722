import { randomBytes } from 'node:crypto';
import { invalidOption } from './errors.js';

/** What the cluster script runs, from its environment (see {@link clusterConfigFromEnv}). */
export interface ClusterConfig {
  /** The proxy's port on 127.0.0.1. */
  port: number;
  /** One port per instance; their ids are `instance-1` … `instance-<n>`. */
  instancePorts: number[];
  /** Milliseconds an instance may go quiet before the proxy answers 504. */
  proxyTimeout: number;
  /** Milliseconds each instance has to become ready. */
  startTimeout: number;
  /** Given to every instance: `REDIS_URL`, `REDIS_PREFIX`, `KEYRING_ENCRYPTION_KEY`, `TRUST_PROXY`. */
  env: NodeJS.ProcessEnv;
  /** What the script decided for the user, to be said out loud. */
  notices: string[];
}

const portOf = (value: string, name: string): number => {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 65_535) {
    throw invalidOption(`${name} must be a port from 1 to 65535 (got "${value.slice(0, 16)}")`);
  }
  return n;
};

const countOf = (value: string | undefined, name: string, fallback: number, max: number) => {
  if (!value?.trim()) return fallback;
  const n = Number(value.trim());
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw invalidOption(`${name} must be a whole number from 1 to ${max}`);
  }
  return n;
};

/**
 * Reads the cluster script's variables:
 * - `PORT` (3000): the proxy's port;
 * - `INSTANCES` (3): how many instances;
 * - `INSTANCE_PORTS` (`PORT+1` … `PORT+INSTANCES`): their ports, comma-separated;
 * - `PROXY_TIMEOUT` (30000): ms an instance may stay silent before the proxy answers 504;
 * - `INSTANCE_START_TIMEOUT` (30000): ms each instance has to answer `/readyz`;
 * - `REDIS_URL` (required): the Redis every instance shares its state through;
 * - `KEYRING_ENCRYPTION_KEY`: seals the key ring in Redis; when unset, one is generated for the
 *   run, and the run gets a `REDIS_PREFIX` of its own (`example-service-<hex>`) unless one is
 *   set, since a later run with another key could not open this run's ring;
 * - `BACKUP_ENCRYPTION_KEY`: generated for the run when unset, so that what one instance encrypts
 *   another decrypts;
 * - `REDIS_PREFIX`, `TRUST_PROXY` (1: the proxy), and every other variable go to the instances.
 */
export function clusterConfigFromEnv(source: NodeJS.ProcessEnv): ClusterConfig {
  const notices: string[] = [];
  const port = portOf(source.PORT?.trim() || '3000', 'PORT');
  const count = countOf(source.INSTANCES, 'INSTANCES', 3, 16);
  const listed = source.INSTANCE_PORTS?.trim();
  const instancePorts = listed
    ? listed.split(',').map((p) => portOf(p.trim(), 'each of INSTANCE_PORTS'))
    : Array.from({ length: count }, (_, i) => port + 1 + i);
  if (listed && instancePorts.length !== count && source.INSTANCES?.trim()) {
    throw invalidOption(
      `INSTANCE_PORTS lists ${instancePorts.length} ports for ${count} INSTANCES`,
    );
  }
  if (new Set([port, ...instancePorts]).size !== instancePorts.length + 1) {
    throw invalidOption('PORT and INSTANCE_PORTS must all differ');
  }
  if (instancePorts.some((p) => p > 65_535)) {
    throw invalidOption(`PORT ${port} leaves no room for ${count} instance ports above it`);
  }
  const proxyTimeout = countOf(source.PROXY_TIMEOUT, 'PROXY_TIMEOUT', 30_000, 3_600_000);
  const startTimeout = countOf(
    source.INSTANCE_START_TIMEOUT,
    'INSTANCE_START_TIMEOUT',
    30_000,
    600_000,
  );
  const redisUrl = source.REDIS_URL?.trim();
  if (!redisUrl) {
    throw invalidOption(
      'REDIS_URL is not set: the instances share their state through Redis. Start one (docker run --rm -p 6379:6379 redis:7) and set REDIS_URL=redis://127.0.0.1:6379',
    );
  }
  if (!/^rediss?:\/\//i.test(redisUrl)) {
    throw invalidOption('REDIS_URL must be a redis:// or rediss:// URL');
  }
  const env: NodeJS.ProcessEnv = { ...source, REDIS_URL: redisUrl };
  env.TRUST_PROXY = source.TRUST_PROXY?.trim() || '1';
  if (!source.KEYRING_ENCRYPTION_KEY?.trim()) {
    env.KEYRING_ENCRYPTION_KEY = randomBytes(32).toString('base64');
    notices.push(
      'KEYRING_ENCRYPTION_KEY is not set: generated one for this run, given to every instance (export your own to keep the key ring across runs)',
    );
    if (!source.REDIS_PREFIX?.trim()) {
      env.REDIS_PREFIX = `example-service-${randomBytes(3).toString('hex')}`;
      notices.push(
        `REDIS_PREFIX is not set either: this run keeps its state under "${env.REDIS_PREFIX}:" (a ring sealed with this run's key cannot be opened by the next run)`,
      );
    }
  }
  // A backup encrypted by one instance must decrypt on another, whichever the proxy picks.
  if (!source.BACKUP_ENCRYPTION_KEY?.trim()) {
    env.BACKUP_ENCRYPTION_KEY = randomBytes(32)
      .toString('base64')
      .replace(/\+/g, '-')
      .replace(/\//g, '_');
    notices.push(
      'BACKUP_ENCRYPTION_KEY is not set: generated one for this run, given to every instance',
    );
  }
  // The cluster names its instances itself; PORT and INSTANCE_ID are set per instance.
  delete env.INSTANCE_PORTS;
  delete env.INSTANCES;
  return { port, instancePorts, proxyTimeout, startTimeout, env, notices };
}
