import type { ShutdownOptions } from '@org/health';

/** A core `Duration`: milliseconds, or a string with its unit. */
export type Duration = NonNullable<ShutdownOptions['drainTimeout']>;

/** A variable of the environment the service cannot start with; `variable` names it. */
export class ServiceConfigError extends Error {
  override readonly name = 'ServiceConfigError';
  readonly code = 'ERR_SERVICE_CONFIG';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A duration from the environment: `'5s'`, `'250ms'`, `'2m'`, or bare milliseconds (`'250'`);
 * `undefined` when unset or empty. Anything else is a {@link ServiceConfigError} naming `name`.
 */
export function envDuration(
  name: string,
  env: NodeJS.ProcessEnv = process.env,
): Duration | undefined {
  const value = env[name]?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value);
  if (/^\d+(\.\d+)?(ms|s|m|h|d|w)$/.test(value)) return value as Duration;
  throw new ServiceConfigError(
    name,
    `${name} must be a duration such as 5s, 250ms or 2m, or milliseconds (got "${value.slice(0, 32)}")`,
  );
}

/** `PORT` (default 3000): a whole number from 0 (a free port) to 65535, else a {@link ServiceConfigError}. */
export function envPort(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.PORT?.trim() || '3000';
  const port = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(port >= 0 && port <= 65_535)) {
    throw new ServiceConfigError(
      'PORT',
      `PORT must be a port number from 0 to 65535 (0 picks a free one); got "${text.slice(0, 32)}"`,
    );
  }
  return port;
}

/** The line for an error of `listen`: a port in use or reserved says what to set. */
export function describeListenError(err: unknown, port: number): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (code === 'EADDRINUSE') {
    return `port ${port} on 127.0.0.1 is in use: stop what holds it, or set PORT to another port (0 picks a free one)`;
  }
  if (code === 'EACCES') return `port ${port} needs privileges: set PORT to a port above 1023`;
  const message = err instanceof Error ? err.message : String(err);
  return `cannot listen on 127.0.0.1:${port}: ${typeof code === 'string' ? `${code}: ` : ''}${message.split('\n')[0]}`;
}

/** Where the state that every instance must agree on lives. */
export interface SharedState {
  /** `redis` when `REDIS_URL` is set: every instance of one `prefix` shares it. */
  readonly mode: 'redis' | 'memory';
  /** `REDIS_URL`, when set. */
  readonly redisUrl: string | undefined;
  /**
   * `REDIS_PREFIX` (default `example-service`): the cache's namespace, and the start of every
   * other key (`<prefix>:rl:`, `<prefix>:breaker`, `<prefix>:keyring:`, `<prefix>:refresh:`).
   * Instances with the same `REDIS_URL` and prefix share one state; another prefix is another
   * cluster on the same Redis.
   */
  readonly prefix: string;
}

const PREFIX = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * {@link SharedState} from `REDIS_URL` and `REDIS_PREFIX`. With `REDIS_URL` set,
 * `KEYRING_ENCRYPTION_KEY` is required (a {@link ServiceConfigError} naming it otherwise).
 */
export function sharedStateFromEnv(env: NodeJS.ProcessEnv = process.env): SharedState {
  const redisUrl = env.REDIS_URL?.trim() || undefined;
  const prefix = env.REDIS_PREFIX?.trim() || 'example-service';
  if (!PREFIX.test(prefix)) {
    throw new ServiceConfigError(
      'REDIS_PREFIX',
      'REDIS_PREFIX must be 1 to 64 letters, digits, ".", "_" or "-"',
    );
  }
  if (redisUrl === undefined) return { mode: 'memory', redisUrl, prefix };
  if (!/^rediss?:\/\//i.test(redisUrl)) {
    throw new ServiceConfigError('REDIS_URL', 'REDIS_URL must be a redis:// or rediss:// URL');
  }
  // A ring of its own per instance behind one load balancer would sign tokens the others
  // refuse: with Redis, a missing sealing key is a refusal to start (before anything connects),
  // never a quiet fallback to memory.
  if (!env.KEYRING_ENCRYPTION_KEY?.trim()) {
    throw new ServiceConfigError(
      'KEYRING_ENCRYPTION_KEY',
      'REDIS_URL is set, so the key ring is shared through Redis, sealed with KEYRING_ENCRYPTION_KEY: set it to 32 random bytes (openssl rand -base64 32), the same on every instance',
    );
  }
  return { mode: 'redis', redisUrl, prefix };
}

/**
 * `TRUST_PROXY`: how many proxies of this app's own stand in front of the service (the cluster
 * script's proxy is one). 0 (the default) reads the client's address from the socket and ignores
 * `X-Forwarded-For`, which any client can forge.
 */
export function trustProxyFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const value = env.TRUST_PROXY?.trim();
  if (!value) return 0;
  if (!/^\d{1,2}$/.test(value)) {
    throw new ServiceConfigError('TRUST_PROXY', 'TRUST_PROXY must be a count of proxies: 0, 1, 2…');
  }
  return Number(value);
}

/** An instance id as it may go into a header and a log line. */
export const INSTANCE_ID = /^[A-Za-z0-9_.:@-]{1,128}$/;
