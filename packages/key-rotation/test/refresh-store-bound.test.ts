import { createMemoryRefreshTokenStore } from '@org/key-rotation';
import { describe, expect, it } from 'vitest';

const record = (i: number) => ({
  id: `id-${i}`,
  familyId: `f-${i}`,
  subject: 'u',
  hash: 'h',
  expiresAt: Date.now() + 3600_000,
  familyExpiresAt: Date.now() + 7200_000,
});

describe('memory refresh-token store bound', () => {
  it('keeps at most maxRecords tokens: past it, the oldest go', async () => {
    const store = createMemoryRefreshTokenStore({ maxRecords: 100 });
    for (let i = 0; i < 1000; i++) await store.save(record(i));
    expect(await store.get('id-0')).toBeUndefined();
    expect(await store.get('id-899')).toBeUndefined();
    expect(await store.get('id-900')).toMatchObject({ id: 'id-900' });
    expect(await store.get('id-999')).toMatchObject({ id: 'id-999' });
  });

  it('has a default bound, and refuses a bad one', async () => {
    const store = createMemoryRefreshTokenStore();
    for (let i = 0; i < 100_005; i++) await store.save(record(i));
    expect(await store.get('id-0')).toBeUndefined();
    expect(await store.get('id-100004')).toMatchObject({ id: 'id-100004' });
    for (const maxRecords of [0, -1, 1.5, Number.NaN]) {
      expect(() => createMemoryRefreshTokenStore({ maxRecords })).toThrow(
        expect.objectContaining({ code: 'ERR_KEY_ROTATION_INVALID_OPTION' }),
      );
    }
  });
});
