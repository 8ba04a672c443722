import { Redis } from 'ioredis';
import type { KeyStore, RingState } from '../key-store.js';
import type { RefreshTokenRecord, RefreshTokenStore } from '../refresh-tokens.js';

/** Connection of the Redis drivers: a client you hold, or a URL. */
export interface RedisConnectionOptions {
  /** An ioredis client to use (not closed by `close()`). @default a client for `url` */
  client?: Redis;
  /** Used when no `client` is given. @default 'redis://127.0.0.1:6379' */
  url?: string;
  /**
   * Prefix of every key and channel. For Redis Cluster put a hash tag in it (`'keyring:{app}:'`)
   * so that the keys of one ring share a slot.
   * @default 'keyring:'
   */
  prefix?: string;
}

/** Options of {@link createRedisKeyStore}. */
export type RedisKeyStoreOptions = RedisConnectionOptions;

// Compare-and-set of the ring: write and publish only when the stored version is the expected one.
const CAS = `
local v = tonumber(redis.call('GET', KEYS[2]) or '0')
if v ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[3])
redis.call('PUBLISH', ARGV[4], ARGV[3])
return 1
`;

/** The client to use and whether this driver owns (and so closes) it. */
export function connect(options: RedisConnectionOptions): { client: Redis; owned: boolean } {
  if (options.client) return { client: options.client, owned: false };
  return {
    client: new Redis(options.url ?? 'redis://127.0.0.1:6379', { lazyConnect: false }),
    owned: true,
  };
}

/**
 * A key store in Redis shared by every instance: writes are an atomic compare-and-set in Lua,
 * and each write is published so that other instances reload within milliseconds (the ring
 * also polls the version, in case a message is lost while a connection is down).
 */
export function createRedisKeyStore(options: RedisKeyStoreOptions = {}): KeyStore {
  const prefix = options.prefix ?? 'keyring:';
  const stateKey = `${prefix}state`;
  const versionKey = `${prefix}version`;
  const channelName = `${prefix}changed`;
  const { client, owned } = connect(options);
  let subscriber: Redis | undefined;
  const listeners = new Set<() => void>();

  return {
    async load() {
      const text = await client.get(stateKey);
      return text === null ? undefined : (JSON.parse(text) as RingState);
    },
    async version() {
      return Number((await client.get(versionKey)) ?? 0);
    },
    async compareAndSet(expected, next) {
      const written = await client.eval(
        CAS,
        2,
        stateKey,
        versionKey,
        String(expected),
        JSON.stringify(next),
        String(next.version),
        channelName,
      );
      return written === 1;
    },
    subscribe(listener) {
      listeners.add(listener);
      if (!subscriber) {
        subscriber = client.duplicate();
        subscriber.on('message', (ch: string) => {
          if (ch === channelName) for (const fn of listeners) fn();
        });
        subscriber.on('error', () => undefined);
        subscriber.subscribe(channelName).catch(() => undefined);
      }
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0 && subscriber) {
          subscriber.disconnect();
          subscriber = undefined;
        }
      };
    },
    async close() {
      listeners.clear();
      const sub = subscriber;
      subscriber = undefined;
      if (sub) sub.disconnect();
      if (owned) await client.quit().catch(() => undefined);
    },
  };
}

// First use wins: SET NX, else the time of the first use.
const MARK_USED = `
local first = redis.call('GET', KEYS[1])
if first then return first end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false
`;

/** Options of {@link createRedisRefreshTokenStore}. */
export type RedisRefreshTokenStoreOptions = RedisConnectionOptions;

/**
 * Refresh tokens in Redis: one key per token (expiring with it), `SET NX` to mark it used
 * (atomic in Lua, so two concurrent rotations of one token cannot both win), one key per revoked
 * family.
 */
export function createRedisRefreshTokenStore(
  options: RedisRefreshTokenStoreOptions = {},
): RefreshTokenStore {
  const prefix = options.prefix ?? 'refresh:';
  const { client, owned } = connect(options);
  const ms = (until: number) => Math.max(1, Math.ceil(until - Date.now()));
  return {
    async save(record) {
      await client.set(
        `${prefix}t:${record.id}`,
        JSON.stringify(record),
        'PX',
        ms(record.expiresAt),
      );
    },
    async get(id) {
      const text = await client.get(`${prefix}t:${id}`);
      return text === null ? undefined : (JSON.parse(text) as RefreshTokenRecord);
    },
    async markUsed(record, at) {
      const first = await client.eval(
        MARK_USED,
        1,
        `${prefix}u:${record.id}`,
        String(at),
        String(ms(record.familyExpiresAt)),
      );
      return first === null ? undefined : Number(first);
    },
    async revokeFamily(familyId, until) {
      await client.set(`${prefix}f:${familyId}`, '1', 'PX', ms(until));
    },
    async isFamilyRevoked(familyId) {
      return (await client.exists(`${prefix}f:${familyId}`)) === 1;
    },
    async close() {
      if (owned) await client.quit().catch(() => undefined);
    },
  };
}
