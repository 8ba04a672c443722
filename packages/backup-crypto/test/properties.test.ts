import { Fernet, FernetErrorCode, generateKey, isFernetError } from '@org/backup-crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const f = new Fernet(generateKey());
const refused = (token: string): boolean => {
  try {
    f.decrypt(token);
    return false;
  } catch (err) {
    return isFernetError(err, FernetErrorCode.InvalidToken);
  }
};

describe('properties', () => {
  it('decrypt(encrypt(x)) = x', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (data) => {
        expect(f.decrypt(f.encrypt(data))).toEqual(Buffer.from(data));
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a token with any single bit flipped', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), fc.nat(7), (data, at, bit) => {
        const bytes = Buffer.from(f.encrypt(data), 'base64url');
        const i = at % bytes.length;
        bytes[i] = bytes[i]! ^ (1 << bit);
        const pad = (3 - (bytes.length % 3)) % 3;
        return refused(bytes.toString('base64url') + '='.repeat(pad));
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses any truncation of a token, in text or in bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), (data, cut) => {
        const token = f.encrypt(data);
        const text = token.slice(0, cut % token.length);
        const bytes = Buffer.from(token, 'base64url');
        const short = bytes.subarray(0, cut % bytes.length);
        const pad = (3 - (short.length % 3)) % 3;
        return refused(text) && refused(short.toString('base64url') + '='.repeat(pad));
      }),
      { numRuns: 1000 },
    );
  });
});
