import { check } from '../errors.js';
import type { KeyStore, RingState } from '../key-store.js';
import type { RefreshTokenRecord, RefreshTokenStore } from '../refresh-tokens.js';
import { clockOption } from '../time-options.js';
import {
  lazyRedis,
  type RedisRefreshTokenStoreOptions,
  type RedisStoreOptions,
  subscribeChannel,
} from './redis-connection.js';

/** Options of {@link createRedisKeyStore}. */
export type RedisKeyStoreOptions = RedisStoreOptions;

// Compare-and-set of the ring: write and publish only when the stored version is the expected one.
const CAS = `
local v = tonumber(redis.call('GET', KEYS[2]) or '0')
if v ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[3])
redis.call('PUBLISH', ARGV[4], ARGV[3])
return 1
`;

/**
 * A key store in Redis shared by every instance: writes are an atomic compare-and-set in Lua,
 * and each write is published so that other instances reload within milliseconds (the ring
 * also polls the version, in case a message is lost while a connection is down). Connects on
 * first use; `close()` releases the subscription and a client it created.
 */
export function createRedisKeyStore(
  options: RedisKeyStoreOptions = {},
): KeyStore & { close(): Promise<void> } {
  const opts = check.object(options, 'options');
  const prefix = check.string(opts.prefix, 'prefix', 'keyring:');
  const stateKey = `${prefix}state`;
  const versionKey = `${prefix}version`;
  const channelName = `${prefix}changed`;
  const connection = lazyRedis(opts.redis);
  const listeners = new Set<() => void>();
  let subscription: { stop(): void } | undefined;

  return {
    async load() {
      const text = await connection.run((c) => c.get(stateKey));
      return text === null ? undefined : (JSON.parse(text) as RingState);
    },
    async version() {
      return Number((await connection.run((c) => c.get(versionKey))) ?? 0);
    },
    async compareAndSet(expected, next) {
      const written = await connection.run((c) =>
        c.eval(
          CAS,
          2,
          stateKey,
          versionKey,
          String(expected),
          JSON.stringify(next),
          String(next.version),
          channelName,
        ),
      );
      return written === 1;
    },
    subscribe(listener) {
      listeners.add(listener);
      subscription ??= subscribeChannel(connection, channelName, () => {
        for (const fn of [...listeners]) fn();
      });
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0 && subscription) {
          subscription.stop();
          subscription = undefined;
        }
      };
    },
    async close() {
      listeners.clear();
      subscription?.stop();
      subscription = undefined;
      await connection.close();
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

/**
 * Refresh tokens in Redis: one key per token (expiring with it), `SET NX` to mark it used
 * (atomic in Lua, so two concurrent rotations of one token cannot both win), one key per revoked
 * family. Connects on first use; `close()` quits a client it created.
 */
export function createRedisRefreshTokenStore(
  options: RedisRefreshTokenStoreOptions = {},
): RefreshTokenStore & { close(): Promise<void> } {
  const opts = check.object(options, 'options');
  const prefix = check.string(opts.prefix, 'prefix', 'refresh:');
  const clock = clockOption(opts.clock);
  const connection = lazyRedis(opts.redis);
  const ms = (until: number) => Math.max(1, Math.ceil(until - clock.now()));
  return {
    async save(record) {
      await connection.run((c) =>
        c.set(`${prefix}t:${record.id}`, JSON.stringify(record), 'PX', ms(record.expiresAt)),
      );
    },
    async get(id) {
      const text = await connection.run((c) => c.get(`${prefix}t:${id}`));
      return text === null ? undefined : (JSON.parse(text) as RefreshTokenRecord);
    },
    async markUsed(record, at) {
      const first = await connection.run((c) =>
        c.eval(
          MARK_USED,
          1,
          `${prefix}u:${record.id}`,
          String(at),
          String(ms(record.familyExpiresAt)),
        ),
      );
      return first === null ? undefined : Number(first);
    },
    async revokeFamily(familyId, until) {
      await connection.run((c) => c.set(`${prefix}f:${familyId}`, '1', 'PX', ms(until)));
    },
    async isFamilyRevoked(familyId) {
      return (await connection.run((c) => c.exists(`${prefix}f:${familyId}`))) === 1;
    },
    close: () => connection.close(),
  };
}
