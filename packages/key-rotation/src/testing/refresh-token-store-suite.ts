import { randomBytes } from 'node:crypto';
import { type Clock, type Duration, parseDuration } from '@org/core';
import {
  createRefreshTokens,
  type RefreshTokenRecord,
  type RefreshTokenStore,
} from '../refresh-tokens.js';
import { settled, type TestApi } from './api.js';

/**
 * A backend under test: called once per test, it returns a fresh, empty store (a new key prefix,
 * a new table). The suite closes it. Its clock, if it reads one, is the real one.
 */
export type RefreshTokenStoreBackend = () => RefreshTokenStore | Promise<RefreshTokenStore>;

/** Options of {@link refreshTokenStoreConformance}. */
export interface RefreshTokenStoreConformanceOptions {
  /** Per-test timeout: a core `Duration`. @default '30s' */
  timeout?: Duration | undefined;
}

const MINUTE = 60_000;

function record(overrides: Partial<RefreshTokenRecord> = {}): RefreshTokenRecord {
  const now = Date.now();
  return {
    id: randomBytes(16).toString('base64url'),
    familyId: randomBytes(16).toString('base64url'),
    subject: 'user-1',
    hash: randomBytes(32).toString('base64url'),
    expiresAt: now + 10 * MINUTE,
    familyExpiresAt: now + 60 * MINUTE,
    ...overrides,
  };
}

/**
 * The tests every {@link RefreshTokenStore} passes: round trips, an atomic first use, family
 * revocation, and the refresh-token helper's rotation and reuse detection over it.
 *
 * ```ts
 * import { refreshTokenStoreConformance } from '@org/key-rotation/testing';
 * import { describe, expect, it } from 'vitest';
 *
 * refreshTokenStoreConformance('my store', () => myStore({ table: freshTable() }), { describe, it, expect });
 * ```
 */
export function refreshTokenStoreConformance(
  name: string,
  backend: RefreshTokenStoreBackend,
  t: TestApi,
  options: RefreshTokenStoreConformanceOptions = {},
): void {
  const { describe, expect } = t;
  const timeout = parseDuration(options.timeout ?? '30s', 'timeout');

  function test(title: string, fn: (store: RefreshTokenStore) => Promise<void>) {
    t.it(
      title,
      async () => {
        const store = await backend();
        try {
          await fn(store);
        } finally {
          await store.close?.();
        }
      },
      timeout,
    );
  }

  describe(`RefreshTokenStore conformance: ${name}`, () => {
    test('what is saved reads back unchanged; unknown ids read undefined', async (store) => {
      const saved = record({ data: { device: 'phone', scopes: ['a', 'b'] } });
      await store.save(saved);
      expect(await store.get(saved.id)).toEqual(saved);
      expect(await store.get(record().id)).toBeUndefined();
    });

    test('markUsed: the first use resolves undefined, later ones the time of the first', async (store) => {
      const saved = record();
      await store.save(saved);
      const at = Date.now();
      expect(await store.markUsed(saved, at)).toBeUndefined();
      expect(await store.markUsed(saved, at + 5)).toBe(at);
    });

    test('markUsed is atomic: of concurrent first uses exactly one wins', async (store) => {
      const saved = record();
      await store.save(saved);
      const at = Date.now();
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => store.markUsed(saved, at + i)),
      );
      expect(results.filter((r) => r === undefined)).toHaveLength(1);
    });

    test('revokeFamily revokes that family only', async (store) => {
      const a = record();
      const b = record();
      await store.revokeFamily(a.familyId, Date.now() + MINUTE);
      expect(await store.isFamilyRevoked(a.familyId)).toBe(true);
      expect(await store.isFamilyRevoked(b.familyId)).toBe(false);
    });

    test('close() (when present) can be called twice', async (store) => {
      await store.get(record().id);
      await store.close?.();
      await store.close?.();
    });

    test('tokens rotate within a family and carry subject and data', async (store) => {
      const tokens = createRefreshTokens({ store });
      const a = await tokens.issue('user-1', { data: { device: 'phone' } });
      expect(a.token).toMatch(/^rt1_/);
      const b = await tokens.rotate(a.token);
      expect(b.subject).toBe('user-1');
      expect(b.familyId).toBe(a.familyId);
      expect(b.data).toEqual({ device: 'phone' });
      expect(b.token).not.toBe(a.token);
      expect((await tokens.rotate(b.token)).familyId).toBe(a.familyId);
    });

    test('a token used twice revokes its whole family, and only it', async (store) => {
      const tokens = createRefreshTokens({ store });
      const reuses: unknown[] = [];
      tokens.on('reuse', (e) => reuses.push(e));
      const a = await tokens.issue('user-2');
      const b = await tokens.rotate(a.token);
      expect(await settled(tokens.rotate(a.token))).toBe('ERR_KEY_ROTATION_REFRESH_TOKEN_REUSED');
      expect(reuses).toEqual([{ familyId: a.familyId, subject: 'user-2' }]);
      expect(await settled(tokens.rotate(b.token))).toBe('ERR_KEY_ROTATION_REFRESH_TOKEN_REVOKED');
      const other = await tokens.issue('user-2');
      expect(await settled(tokens.rotate(other.token))).toBe('resolved');
    });

    test('two concurrent rotations of one token: exactly one wins', async (store) => {
      const tokens = createRefreshTokens({ store });
      const a = await tokens.issue('user-3');
      const results = await Promise.all([
        settled(tokens.rotate(a.token)),
        settled(tokens.rotate(a.token)),
      ]);
      expect(results.sort()).toEqual(['ERR_KEY_ROTATION_REFRESH_TOKEN_REUSED', 'resolved']);
    });

    test('forged, malformed and expired tokens are refused without burning the real one', async (store) => {
      let now = Date.now();
      const clock: Clock = { now: () => now };
      const tokens = createRefreshTokens({ store, ttl: '1m', clock });
      const a = await tokens.issue('user-4');
      const [id] = a.token.split('.');
      const invalid = 'ERR_KEY_ROTATION_REFRESH_TOKEN_INVALID';
      expect(await settled(tokens.rotate(`${id}.${'A'.repeat(43)}`))).toBe(invalid);
      for (const bad of ['', 'rt1_x.y', a.token.slice(0, -1), `${a.token}x`]) {
        expect(await settled(tokens.rotate(bad))).toBe(invalid);
      }
      const b = await tokens.rotate(a.token);
      now += 61_000;
      expect(await settled(tokens.rotate(b.token))).toBe(invalid);
    });

    test('revokeFamily logs a family out', async (store) => {
      const tokens = createRefreshTokens({ store });
      const a = await tokens.issue('user-5');
      await tokens.revokeFamily(a.familyId);
      expect(await settled(tokens.rotate(a.token))).toBe('ERR_KEY_ROTATION_REFRESH_TOKEN_REVOKED');
    });

    test('reuseInterval: a retry soon after the first use gets a token, later ones revoke', async (store) => {
      let now = Date.now();
      const clock: Clock = { now: () => now };
      const tokens = createRefreshTokens({ store, reuseInterval: '10s', clock });
      const a = await tokens.issue('user-6');
      const b = await tokens.rotate(a.token);
      now += 5_000;
      const retry = await tokens.rotate(a.token);
      expect(retry.familyId).toBe(b.familyId);
      expect(retry.token).not.toBe(b.token);
      now += 5_000;
      expect(await settled(tokens.rotate(a.token))).toBe('ERR_KEY_ROTATION_REFRESH_TOKEN_REUSED');
      expect(await settled(tokens.rotate(retry.token))).toBe(
        'ERR_KEY_ROTATION_REFRESH_TOKEN_REVOKED',
      );
    });
  });
}
