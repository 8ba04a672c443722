import {
  Fernet,
  FernetError,
  FernetErrorCode,
  generateKey,
  INVALID_TOKEN_MESSAGE,
  isFernetError,
  MultiFernet,
} from '@org/backup-crypto';
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

  it('takes the timestamp from the injected clock and enforces ttl against it', () => {
    let nowMs = 1_700_000_000_000;
    const clocked = new Fernet(key, { clock: () => nowMs });
    const token = clocked.encrypt('t');
    expect(clocked.extractTimestamp(token)).toBe(1_700_000_000);
    nowMs += 60_000;
    expect(clocked.decrypt(token, { ttl: 60 }).toString()).toBe('t');
    nowMs += 1_000;
    expect(codeOf(() => clocked.decrypt(token, { ttl: 60 }))).toBe(FernetErrorCode.TokenExpired);
    expect(clocked.decrypt(token).toString()).toBe('t');
  });

  it('refuses tokens from beyond the clock skew only when a ttl is given, as Python does', () => {
    const token = f.encrypt('future', { timestamp: 2_000_000_000 });
    expect(codeOf(() => f.decrypt(token, { ttl: 10, now: 2_000_000_000 - 61 }))).toBe(
      FernetErrorCode.InvalidToken,
    );
    expect(f.decrypt(token, { ttl: 10, now: 2_000_000_000 - 60 }).toString()).toBe('future');
    expect(f.decrypt(token, { now: 0 }).toString()).toBe('future');
    const strict = new Fernet(key, { maxClockSkewSeconds: 0 });
    expect(codeOf(() => strict.decrypt(token, { ttl: 10, now: 2_000_000_000 - 1 }))).toBe(
      FernetErrorCode.InvalidToken,
    );
  });

  it('reports an expired token only when its MAC is right', () => {
    const other = new Fernet(generateKey()).encrypt('x', { timestamp: 1 });
    expect(codeOf(() => f.decrypt(other, { ttl: 1, now: 1000 }))).toBe(
      FernetErrorCode.InvalidToken,
    );
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

  it('refuses bad encrypt and decrypt arguments with ERR_FERNET_INVALID_ARGUMENT', () => {
    expect(codeOf(() => f.encrypt('x', { iv: new Uint8Array(15) }))).toBe(
      FernetErrorCode.InvalidArgument,
    );
    expect(codeOf(() => f.encrypt('x', { timestamp: -1 }))).toBe(FernetErrorCode.InvalidArgument);
    expect(codeOf(() => f.encrypt('x', { timestamp: 1.5 }))).toBe(FernetErrorCode.InvalidArgument);
    expect(codeOf(() => f.decrypt(f.encrypt('x'), { ttl: -1 }))).toBe(
      FernetErrorCode.InvalidArgument,
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
    const multi = new MultiFernet([k1, k2], { clock: () => 10_000_000 });
    const token = new Fernet(k2).encrypt('x', { timestamp: 9_000 });
    expect(codeOf(() => multi.decrypt(token, { ttl: 100 }))).toBe(FernetErrorCode.TokenExpired);
  });

  it('needs at least one key', () => {
    expect(codeOf(() => new MultiFernet([]))).toBe(FernetErrorCode.InvalidArgument);
  });
});
