import {
  isStorageError,
  isValidKey,
  keyProblem,
  StorageError,
  validateKey,
  validatePrefix,
} from '@org/storage';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const invalid = [
  ['', 'empty'],
  ['../etc/passwd', 'traversal'],
  ['a/../../b', 'traversal inside'],
  ['a/./b', 'dot segment'],
  ['..', 'dot-dot alone'],
  ['%2e%2e/secret', 'encoded dots'],
  ['%2E%2E%2Fsecret', 'encoded upper case'],
  ['a%2fb', 'encoded slash'],
  ['a%5cb', 'encoded backslash'],
  ['%252e%252e/x', 'double encoded'],
  ['a%00b', 'encoded NUL'],
  ['a\\b', 'backslash'],
  ['..\\..\\windows', 'backslash traversal'],
  ['/etc/passwd', 'absolute'],
  ['C:/Windows/x', 'drive letter'],
  ['c:x', 'drive relative'],
  ['\\\\server\\share\\x', 'UNC'],
  ['//server/share/x', 'UNC with slashes'],
  ['a//b', 'empty segment'],
  ['a/', 'trailing slash'],
  ['a\u0000b', 'NUL'],
  ['a\nb', 'newline'],
  ['a\u007fb', 'DEL'],
  ['a\u0085b', 'C1 control'],
  ['a\ud800b', 'lone high surrogate'],
  ['a\udc00b', 'lone low surrogate'],
  ['file.txt:stream', 'NTFS stream'],
  ['what?.txt', 'question mark'],
  ['CON', 'device name'],
  ['dir/nul.txt', 'device name with extension'],
  ['name.', 'trailing dot'],
  ['name ', 'trailing space'],
  ['.~meta/x', 'reserved'],
  ['a/.~tmp-1', 'reserved tmp'],
  ['x'.repeat(256), 'segment over 255 bytes'],
  ['é'.repeat(128), 'segment of 256 UTF-8 bytes'],
  [Array.from({ length: 5 }, () => 'y'.repeat(250)).join('/'), 'over 1024 bytes'],
] as const;

const valid = [
  'report.pdf',
  'pdfs/2024/invoice-1.pdf',
  'Straße/Ünïcödé.txt',
  '日本語/ファイル.png',
  'emoji-😀.txt',
  'a b/c d.txt',
  '50%off.txt',
  'a%20b',
  '.hidden',
  '..a',
  'a..b',
  'x'.repeat(255),
  // exactly 1,024 bytes
  `${'y'.repeat(255)}/${'y'.repeat(255)}/${'y'.repeat(255)}/${'y'.repeat(254)}/z`,
];

describe('key rules', () => {
  it.each(invalid)('refuses %j (%s) with ERR_STORAGE_INVALID_KEY and a reason', (key) => {
    let err: unknown;
    try {
      validateKey(key);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StorageError);
    expect(isStorageError(err, 'ERR_STORAGE_INVALID_KEY')).toBe(true);
    expect((err as Error).message).toMatch(/^Invalid storage key .+: .{10,}/);
  });

  it.each(valid)('accepts %j unchanged', (key) => {
    expect(validateKey(key)).toBe(key);
    expect(keyProblem(key)).toBeUndefined();
  });

  it('refuses non-strings', () => {
    expect(isValidKey(42)).toBe(false);
    expect(isValidKey(undefined)).toBe(false);
  });

  it('checks byte length, not UTF-16 length', () => {
    expect(isValidKey('é'.repeat(127))).toBe(true); // 254 bytes
    expect(isValidKey('😀'.repeat(63))).toBe(true); // 252 bytes
    expect(isValidKey('😀'.repeat(64))).toBe(false); // 256 bytes
  });

  it('does not normalise: NFC and NFD forms are two distinct valid keys', () => {
    const nfc = 'caf\u00e9';
    const nfd = 'cafe\u0301';
    expect(validateKey(nfc)).toBe(nfc);
    expect(validateKey(nfd)).toBe(nfd);
    expect(nfc).not.toBe(nfd);
  });

  it('accepts prefixes that may end mid-segment or with a slash', () => {
    expect(validatePrefix('')).toBe('');
    expect(validatePrefix('pdfs/')).toBe('pdfs/');
    expect(validatePrefix('pdfs/rep')).toBe('pdfs/rep');
    expect(validatePrefix('pdfs/report.')).toBe('pdfs/report.');
    expect(() => validatePrefix('../')).toThrow(/Invalid storage key/);
    expect(() => validatePrefix('/abs')).toThrow(/Invalid storage key/);
  });
});

// Arbitraries of segments that are valid by construction.
const safeChar = fc.oneof(
  fc.constantFrom(
    ..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=+,;@()[]{}!$&'#~",
  ),
  fc.constantFrom('é', 'ß', '日', '本', '😀', '\u0301', ' '),
);
const segment = fc
  .array(safeChar, { minLength: 1, maxLength: 20 })
  .map((cs) => cs.join(''))
  .filter((s) => isValidKey(s));
const goodKey = fc.array(segment, { minLength: 1, maxLength: 6 }).map((s) => s.join('/'));

describe('key rules (properties)', () => {
  it('never throws anything but StorageError, for any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => {
        try {
          validateKey(s);
        } catch (err) {
          expect(isStorageError(err, 'ERR_STORAGE_INVALID_KEY')).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('accepted keys are returned byte-exact and never resolve outside their root', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 120 }), (s) => {
        if (!isValidKey(s)) return;
        expect(validateKey(s)).toBe(s);
        expect(Buffer.from(s, 'utf8').toString('utf8')).toBe(s); // well-formed
        const segs = s.split('/');
        expect(segs.every((x) => x !== '' && x !== '.' && x !== '..')).toBe(true);
        // biome-ignore lint/suspicious/noControlCharactersInRegex: the property is about them
        expect(s).not.toMatch(/[\\\u0000-\u001f]/);
      }),
      { numRuns: 3000 },
    );
  });

  it('valid segments joined by "/" form valid keys', () => {
    fc.assert(
      fc.property(goodKey, (k) => {
        expect(isValidKey(k)).toBe(true);
      }),
    );
  });

  it('inserting a traversal, NUL, backslash or control char into a valid key makes it invalid', () => {
    const poison = fc.constantFrom('../', '/../', '\u0000', '\\', '\n', '%2e%2e/', '//', '\u001b');
    fc.assert(
      fc.property(goodKey, poison, fc.nat(), (k, p, at) => {
        const i = at % (k.length + 1);
        const bad = k.slice(0, i) + p + k.slice(i);
        // '../' appended at the very end still ends with '/', '..' or forms '..', all invalid.
        expect(isValidKey(bad)).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('the length limits hold in UTF-8 bytes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 400 }), (s) => {
        if (!isValidKey(s)) return;
        expect(Buffer.byteLength(s)).toBeLessThanOrEqual(1024);
        for (const seg of s.split('/')) expect(Buffer.byteLength(seg)).toBeLessThanOrEqual(255);
      }),
    );
  });
});
