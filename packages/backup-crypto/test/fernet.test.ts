import {
  Fernet,
  FernetError,
  FernetErrorCode,
  type FernetOptions,
  generateKey,
  INVALID_TOKEN_MESSAGE,
  isFernetError,
  MultiFernet,
} from '@org/backup-crypto';
import { type Clock, isOrgError, OrgError } from '@org/core';
import { describe, expect, it } from 'vitest';

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return isFernetError(err) ? err.code : `not a FernetError: ${String(err)}`;
  }
  return undefined;
};

describe('generateKey', () => {
  it('is 32 random bytes in padded url-safe base64, like Python', () => {
    const key = generateKey();
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}=$/);
    expect(Buffer.from(key, 'base64url')).toHaveLength(32);
    expect(generateKey()).not.toBe(key);
  });
});

describe('Fernet keys', () => {
  it('accepts the string and the 32 bytes, with the same result', () => {
    const key = generateKey();
    const token = new Fernet(key).encrypt('x');
    expect(new Fernet(Buffer.from(key, 'base64url')).decrypt(token).toString()).toBe('x');
    expect(new Fernet(key.slice(0, 43)).decrypt(token).toString()).toBe('x');
  });

  it.each([
    ['empty', ''],
    ['short', 'abc='],
    ['31 bytes', Buffer.alloc(31).toString('base64url')],
    ['33 bytes', Buffer.alloc(33).toString('base64url')],
    ['not base64', '%'.repeat(44)],
    ['buffer of 16', Buffer.alloc(16)],
  ])('refuses a bad key (%s) with ERR_FERNET_INVALID_KEY and says what a key is', (_, key) => {
    let err: unknown;
    try {
      new Fernet(key as string);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FernetError);
    expect((err as FernetError).code).toBe(FernetErrorCode.InvalidKey);
    expect((err as Error).message).toContain('32 random bytes in url-safe base64');
  });

  it('never puts the key into an error or inspection', () => {
    const key = generateKey();
    const f = new Fernet(key);
    expect(JSON.stringify(f)).not.toContain(key.slice(0, 10));
    expect(String(f)).not.toContain(key.slice(0, 10));
    expect(codeOf(() => new Fernet(`${key}x`))).toBe(FernetErrorCode.InvalidKey);
    try {
      new Fernet(`${key}x`);
    } catch (err) {
      expect((err as Error).message).not.toContain(key.slice(0, 10));
    }
  });
});

describe('Fernet', () => {
  const key = generateKey();
  const f = new Fernet(key);

  it('round-trips strings (UTF-8) and bytes, empty included', () => {
    expect(f.decrypt(f.encrypt('héllo ✓')).toString('utf8')).toBe('héllo ✓');
    expect(f.decrypt(f.encrypt(new Uint8Array(0)))).toHaveLength(0);
    const bytes = Buffer.from([0, 255, 1, 254]);
    expect(f.decrypt(f.encrypt(bytes))).toEqual(bytes);
  });

  it('writes padded tokens of the expected length, starting with the version byte', () => {
    const token = f.encrypt(Buffer.alloc(16));
    // 25 header + 32 ciphertext (16 + a full padding block) + 32 MAC = 89 bytes → 120 chars.
    expect(token).toHaveLength(120);
    expect(token.startsWith('gAAAAA')).toBe(true);
    expect(token.endsWith('=')).toBe(true);
  });

  it('uses a fresh IV each time', () => {
    expect(f.encrypt('same')).not.toBe(f.encrypt('same'));
  });

  /** A Fernet whose clock stands at `seconds` (unix seconds). */
  const at = (seconds: number, options: FernetOptions = {}) =>
    new Fernet(key, { ...options, clock: { now: () => seconds * 1000 } });

  it('takes the timestamp from the injected clock and enforces ttl against it', () => {
    let nowMs = 1_700_000_000_000;
    const clocked = new Fernet(key, { clock: { now: () => nowMs } });
    const token = clocked.encrypt('t');
    expect(clocked.extractTimestamp(token)).toBe(1_700_000_000);
    nowMs += 60_000;
    expect(clocked.decrypt(token, { ttl: '60s' }).toString()).toBe('t');
    expect(clocked.decrypt(token, { ttl: 60_000 }).toString()).toBe('t');
    nowMs += 1_000;
    expect(codeOf(() => clocked.decrypt(token, { ttl: '60s' }))).toBe(FernetErrorCode.TokenExpired);
    expect(codeOf(() => clocked.decrypt(token, { ttl: 60_000 }))).toBe(
      FernetErrorCode.TokenExpired,
    );
    expect(clocked.decrypt(token).toString()).toBe('t');
  });

  it('reads ttl as a duration: a bare number is milliseconds, judged in whole seconds', () => {
    const token = f.encrypt('t', { timestamp: 1_000 });
    // `ttl: 60` is 60 ms: a token a second old is expired (it meant 60 seconds before 0.2).
    expect(at(1_000).decrypt(token, { ttl: 60 }).toString()).toBe('t');
    expect(codeOf(() => at(1_001).decrypt(token, { ttl: 60 }))).toBe(FernetErrorCode.TokenExpired);
    // As Python's float ttl: 1.5 s accepts an age of 1 s and refuses 2 s.
    expect(at(1_001).decrypt(token, { ttl: '1.5s' }).toString()).toBe('t');
    expect(codeOf(() => at(1_002).decrypt(token, { ttl: 1_500 }))).toBe(
      FernetErrorCode.TokenExpired,
    );
    expect(
      at(1_000 + 7 * 86_400)
        .decrypt(token, { ttl: '7d' })
        .toString(),
    ).toBe('t');
    expect(codeOf(() => at(1_001 + 7 * 86_400).decrypt(token, { ttl: '7d' }))).toBe(
      FernetErrorCode.TokenExpired,
    );
  });

  it('refuses tokens from beyond the clock skew only when a ttl is given, as Python does', () => {
    const token = f.encrypt('future', { timestamp: 2_000_000_000 });
    expect(codeOf(() => at(2_000_000_000 - 61).decrypt(token, { ttl: '10s' }))).toBe(
      FernetErrorCode.InvalidToken,
    );
    expect(
      at(2_000_000_000 - 60)
        .decrypt(token, { ttl: '10s' })
        .toString(),
    ).toBe('future');
    expect(at(0).decrypt(token).toString()).toBe('future');
    const strict = at(2_000_000_000 - 1, { maxClockSkew: 0 });
    expect(codeOf(() => strict.decrypt(token, { ttl: '10s' }))).toBe(FernetErrorCode.InvalidToken);
    const lenient = at(2_000_000_000 - 120, { maxClockSkew: '2m' });
    expect(lenient.decrypt(token, { ttl: '10s' }).toString()).toBe('future');
  });

  it('reports an expired token only when its MAC is right', () => {
    const other = new Fernet(generateKey()).encrypt('x', { timestamp: 1 });
    expect(codeOf(() => at(1000).decrypt(other, { ttl: '1s' }))).toBe(FernetErrorCode.InvalidToken);
  });

  it('refuses every malformed token with one code and one message', () => {
    const good = f.encrypt('payload');
    const bad = [
      '',
      'gAAAAA',
      good.slice(0, -1),
      good.replace(/=+$/, ''),
      `${good}AAAA`,
      ` ${good.slice(1)}`,
      `A${good.slice(1)}`,
      good.slice(0, 40) + '!' + good.slice(41),
      new Fernet(generateKey()).encrypt('payload'),
    ];
    for (const token of bad) {
      let err: unknown;
      try {
        f.decrypt(token);
      } catch (e) {
        err = e;
      }
      expect(isFernetError(err, FernetErrorCode.InvalidToken), token).toBe(true);
      expect((err as Error).message).toBe(INVALID_TOKEN_MESSAGE);
    }
  });

  it('ignores trailing whitespace, as Python does (a token file with a final newline)', () => {
    expect(f.decrypt(`${f.encrypt('nl')}\n`).toString()).toBe('nl');
    expect(f.decrypt(`${f.encrypt('crlf')}\r\n`).toString()).toBe('crlf');
  });

  it('accepts the token as bytes too', () => {
    expect(f.decrypt(Buffer.from(f.encrypt('b'))).toString()).toBe('b');
  });

  it('refuses bad options with ERR_FERNET_INVALID_OPTION naming the option', () => {
    expect(codeOf(() => f.encrypt('x', { iv: new Uint8Array(15) }))).toBe(
      FernetErrorCode.InvalidOption,
    );
    expect(codeOf(() => f.encrypt('x', { timestamp: -1 }))).toBe(FernetErrorCode.InvalidOption);
    expect(codeOf(() => f.encrypt('x', { timestamp: 1.5 }))).toBe(FernetErrorCode.InvalidOption);
    expect(codeOf(() => f.decrypt(f.encrypt('x'), { ttl: -1 }))).toBe(
      FernetErrorCode.InvalidOption,
    );
    // A unit-less string is refused: a reader could not tell seconds from milliseconds.
    expect(codeOf(() => f.decrypt(f.encrypt('x'), { ttl: '60' as '60s' }))).toBe(
      FernetErrorCode.InvalidOption,
    );
    expect(() => f.decrypt(f.encrypt('x'), { ttl: -1 })).toThrow(/`ttl`/);
    expect(codeOf(() => new Fernet(key, { maxClockSkew: -1 }))).toBe(FernetErrorCode.InvalidOption);
    const notAClock = Date.now as unknown as Clock;
    expect(codeOf(() => new Fernet(key, { clock: notAClock }))).toBe(FernetErrorCode.InvalidOption);
    expect(() => new Fernet(key, { clock: notAClock })).toThrow(/`clock`/);
  });

  it('refuses data that is neither a string nor bytes with ERR_FERNET_INVALID_ARGUMENT', () => {
    expect(codeOf(() => f.encrypt(123 as unknown as string))).toBe(FernetErrorCode.InvalidArgument);
  });

  it('throws errors of core: OrgError, ERR_FERNET_ codes, a JSON form without the cause', () => {
    let err: unknown;
    try {
      f.decrypt('nope');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OrgError);
    expect(isOrgError(err, FernetErrorCode.InvalidToken)).toBe(true);
    expect((err as FernetError).name).toBe('FernetError');
    expect(JSON.parse(JSON.stringify(err))).toEqual({
      name: 'FernetError',
      code: 'ERR_FERNET_INVALID_TOKEN',
      message: INVALID_TOKEN_MESSAGE,
    });
    // The guard holds for a FernetError of another copy of the package (same brand and prefix).
    const foreign = new OrgError('ERR_FERNET_INVALID_TOKEN', INVALID_TOKEN_MESSAGE);
    expect(isFernetError(foreign, FernetErrorCode.InvalidToken)).toBe(true);
    expect(isFernetError(new OrgError('ERR_CACHE_BACKEND', 'x'))).toBe(false);
    expect(isFernetError(Object.assign(new Error('x'), { code: 'ERR_FERNET_INVALID_TOKEN' }))).toBe(
      false,
    );
  });
});

describe('MultiFernet', () => {
  const [k1, k2, k3] = [generateKey(), generateKey(), generateKey()];

  it('encrypts with the first key and decrypts with any', () => {
    const multi = new MultiFernet([k1, k2]);
    expect(new Fernet(k1).decrypt(multi.encrypt('a')).toString()).toBe('a');
    expect(multi.decrypt(new Fernet(k2).encrypt('b')).toString()).toBe('b');
    expect(codeOf(() => multi.decrypt(new Fernet(k3).encrypt('c')))).toBe(
      FernetErrorCode.InvalidToken,
    );
  });

  it('rotates a token under the first key and keeps its timestamp', () => {
    const old = new Fernet(k2).encrypt('backup', { timestamp: 1_600_000_000 });
    const rotated = new MultiFernet([k1, k2]).rotate(old);
    const f1 = new Fernet(k1);
    expect(f1.decrypt(rotated).toString()).toBe('backup');
    expect(f1.extractTimestamp(rotated)).toBe(1_600_000_000);
    expect(codeOf(() => new Fernet(k2).decrypt(rotated))).toBe(FernetErrorCode.InvalidToken);
    expect(codeOf(() => new MultiFernet([k1]).rotate(old))).toBe(FernetErrorCode.InvalidToken);
  });

  it('applies ttl to the matching key', () => {
    const multi = new MultiFernet([k1, k2], { clock: { now: () => 10_000_000 } });
    const token = new Fernet(k2).encrypt('x', { timestamp: 9_000 });
    expect(codeOf(() => multi.decrypt(token, { ttl: '100s' }))).toBe(FernetErrorCode.TokenExpired);
    expect(multi.decrypt(token, { ttl: '1000s' }).toString()).toBe('x');
  });

  it('needs at least one key', () => {
    expect(codeOf(() => new MultiFernet([]))).toBe(FernetErrorCode.InvalidArgument);
  });
});
